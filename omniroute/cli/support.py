"""What every `omniroute` subcommand module shares: the error console and the settings loader."""

from __future__ import annotations

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape

from omniroute.config.settings import Settings

console = Console(stderr=True)


def load_settings(*, providers: bool = False) -> Settings:
    """Settings from the environment, or exit 2 naming each bad variable. With `providers`, for a process
    that calls the providers, their keys and URLs are checked too (Settings.require_providers)."""
    try:
        settings = Settings()
        if providers:
            settings.require_providers()
        return settings
    except ValidationError as err:
        for error in err.errors():
            message = str(error["msg"]).removeprefix("Value error, ")
            if error["loc"]:
                message = f"OMNIROUTE_{'_'.join(str(part) for part in error['loc']).upper()}: {message}"
            _refuse(message)
    except ValueError as err:
        _refuse(str(err))
    raise typer.Exit(2)


def _refuse(message: str) -> None:
    console.print(f"[red]invalid configuration:[/red] {escape(message)}", soft_wrap=True)
