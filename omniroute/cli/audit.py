"""`omniroute audit`: the audit trail, read from the app DB (GET /v1/audit serves the same over HTTP)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from omniroute.cli.support import console, load_settings


def audit(
    actor: Annotated[str | None, typer.Option(help="only changes by this key id")] = None,
    role: Annotated[str | None, typer.Option(help="only changes by keys of this role (channel, node, operator, "
                                                  "admin)")] = None,
    kind: Annotated[str | None, typer.Option(help="only changes of this kind, e.g. order.cancel")] = None,
    subject: Annotated[str | None, typer.Option(help="only changes to this node, order, document or key")] = None,
    order: Annotated[str | None, typer.Option("--order", help="only changes concerning this order id")] = None,
    since: Annotated[datetime | None, typer.Option(help="from this time on (UTC unless it has an offset)")] = None,
    until: Annotated[datetime | None, typer.Option(help="before this time (UTC unless it has an offset)")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="at most this many changes")] = 50,
) -> None:
    """List who changed what through the gateway, newest first: time, actor (role and key id), kind,
    subject and detail. Exits 2 for an unknown --role or --kind. The database is
    OMNIROUTE_DATABASE_URL, else the SQLite file under the data dir."""
    settings = load_settings()
    from pydantic import ValidationError
    from rich.table import Table

    from models.audit import AuditFilter
    from store import Store

    try:
        wanted = AuditFilter.model_validate({"actor_id": actor, "role": role, "kind": kind, "subject": subject,
                                             "order_id": order, "since": since, "until": until})
    except ValidationError as err:
        for error in err.errors():
            console.print(f"[red]--{error['loc'][0]}:[/red] {escape(str(error['msg']))}", soft_wrap=True)
        raise typer.Exit(2) from None
    store = Store.connect(settings.app_database_url)
    try:
        entries = store.audit_entries(wanted, limit=limit)
    finally:
        store.dispose()
    if not entries:
        Console().print("no change matches")
        return
    table = Table(title=f"{len(entries)} change(s), newest first")
    for column in ("at (UTC)", "actor", "kind", "subject", "detail"):
        table.add_column(column)
    for entry in entries:
        detail = ", ".join(f"{name}={value}" for name, value in entry.detail.items())
        table.add_row(f"{entry.at:%Y-%m-%d %H:%M:%S}", escape(entry.actor.tag), entry.kind.value,
                      escape(entry.subject), escape(detail))
    Console(width=160).print(table)
