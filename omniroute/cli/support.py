"""What every `omniroute` subcommand module shares: the error console and the settings loader."""

from __future__ import annotations

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape

from omniroute.config.settings import Settings

console = Console(stderr=True)


def load_settings() -> Settings:
    """Settings from the environment, or exit 2 naming each bad variable."""
    try:
        return Settings()
    except ValidationError as err:
        for error in err.errors():
            message = str(error["msg"]).removeprefix("Value error, ")
            if error["loc"]:
                message = f"OMNIROUTE_{'_'.join(str(part) for part in error['loc']).upper()}: {message}"
            console.print(f"[red]invalid configuration:[/red] {escape(message)}", soft_wrap=True)
        raise typer.Exit(2) from None
