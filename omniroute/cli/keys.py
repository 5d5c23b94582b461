"""`omniroute keys`: create, list and revoke the gateway's API keys, straight on the app DB (so that
the first admin key can be made before anyone can call the gateway)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from models.keys import KeyCreate, Role
from omniroute.cli.support import console, load_settings

if TYPE_CHECKING:
    from store import Store

keys_app = typer.Typer(help="The gateway's API keys (roles: channel, node, operator, admin).", no_args_is_help=True)


@keys_app.command("create")
def keys_create(
    role: Annotated[Role, typer.Option(help="what the key may do (docs/security.md)")],
    channel: Annotated[list[str] | None, typer.Option(help="a channel the key serves (channel keys; repeat)")] = None,
    node: Annotated[list[str] | None, typer.Option(help="a node the key serves (node keys; repeat)")] = None,
    name: Annotated[str | None, typer.Option(help="who or what uses it; the role and scope if omitted")] = None,
) -> None:
    """Create a key. Its token is printed once, as the last line: only its hash is kept.

    Example: omniroute keys create --role channel --channel web
    """
    channels, nodes = channel or [], node or []
    try:
        request = KeyCreate(name=name or " ".join([role.value, *channels, *nodes])[:100], role=role,
                            channels=channels, nodes=nodes)
    except ValidationError as err:
        for error in err.errors():
            where = ".".join(str(part) for part in error["loc"])
            message = escape(str(error["msg"]).removeprefix("Value error, "))
            console.print(f"[red]invalid key:[/red] {escape(where) + ': ' if where else ''}{message}")
        raise typer.Exit(2) from None
    store = _store()
    try:
        created = store.create_key(request)
    finally:
        store.dispose()
    scope = ", ".join(created.channels or created.nodes) or "everything"
    console.print(f"created key {created.key_id} ({created.role.value}: {escape(scope)}); the token follows, "
                  "shown this once:")
    print(created.token)


@keys_app.command("list")
def keys_list(
    revoked: Annotated[bool, typer.Option("--revoked", help="list revoked keys too")] = False,
) -> None:
    """The keys, without their tokens: id, name, role, scope, created, last used, revoked."""
    store = _store()
    try:
        keys = store.list_keys(include_revoked=revoked)
    finally:
        store.dispose()
    table = Table(title=f"{len(keys)} API keys")
    for column in ("key id", "name", "role", "scope", "created", "last used", "revoked"):
        table.add_column(column)
    for key in keys:
        table.add_row(key.key_id, escape(key.name), key.role.value, escape(", ".join(key.channels or key.nodes)),
                      f"{key.created_at:%Y-%m-%d %H:%M}", f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at
                      else "never", f"{key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "")
    Console(width=140).print(table)


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument(help="the key's id (see `omniroute keys list`)")]) -> None:
    """Revoke a key: the next request with it is answered 401."""
    store = _store()
    try:
        revoked = store.revoke_key(key_id)
    finally:
        store.dispose()
    if revoked is None:
        console.print(f"[red]no key {escape(key_id)!r}[/red]")
        raise typer.Exit(1)
    console.print(f"key {revoked.key_id} ({escape(revoked.name)}) revoked at "
                  f"{revoked.revoked_at:%Y-%m-%d %H:%M:%S} UTC")


def _store() -> Store:
    from store import Store, upgrade_database

    settings = load_settings()
    if settings.database_url is None:  # the default SQLite file lives under the data dir
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade_database(settings.app_database_url)
    return Store.connect(settings.app_database_url)
