"""What every `omniroute` subcommand module shares: the error console and the settings loader."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape

from omniroute.config.settings import Settings

if TYPE_CHECKING:
    from omniroute.client import OmnirouteClient

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


async def connect_sdk(settings: Settings) -> OmnirouteClient:
    """The channel SDK as the services connect it: the deployment's payload codec (so that encrypted
    orders read back) and TLS to Temporal."""
    from omniroute.client import OmnirouteClient
    from omniroute.config.codec import data_converter_for
    from omniroute.config.temporal_tls import temporal_tls

    return await OmnirouteClient.connect(settings.temporal_address, namespace=settings.temporal_namespace,
                                         task_queue=settings.task_queue, data_converter=data_converter_for(settings),
                                         tls=temporal_tls(settings))
