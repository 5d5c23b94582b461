"""`omniroute orders timeline ID`: what happened to an order, in time order, with who did each thing,
as `GET /v1/orders/{id}/timeline` answers it (gateway/timeline.py merges it), read from the app DB and,
when Temporal answers, the order's workflow."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from omniroute.cli.support import connect_sdk, console, load_settings


def orders_timeline(
    order_id: Annotated[str, typer.Argument(help="the order's id, e.g. web-1001")],
    as_json: Annotated[bool, typer.Option("--json", help="print the timeline as JSON")] = False,
) -> None:
    """An order's timeline: intake, rules fired, the decision, reservations, labels, node events,
    cancels, hold releases and returns, oldest first, each with its actor; then the workflow's own
    notes. Answers from the app DB alone (saying so) when Temporal is out of reach; exits 1 for an
    unknown order."""
    settings = load_settings()
    from gateway.routes.timeline import live_view, read_sources
    from gateway.timeline import order_timeline
    from models.order import OrderView
    from omniroute.errors import OmnirouteError
    from store import Store

    store = Store.connect(settings.app_database_url)
    try:
        sources = read_sources(store, order_id)
    finally:
        store.dispose()

    async def ask_workflow() -> tuple[OrderView | None, bool]:
        try:
            client = await connect_sdk(settings)
        except OmnirouteError:
            return None, False
        return await live_view(client, order_id)

    with console.status(f"asking the order's workflow through Temporal at {settings.temporal_address}..."):
        view, live = asyncio.run(ask_workflow())
    if view is None and sources.empty:
        console.print(f"[red]not found:[/red] unknown order {escape(order_id)!r}")
        raise typer.Exit(1)
    timeline = order_timeline(order_id, sources, view, live_view_read=live, viewer_key_id=None)
    if as_json:
        typer.echo(timeline.model_dump_json(indent=2))
        return
    table = Table(title=f"{order_id}: {timeline.status.value if timeline.status else 'status unknown'}")
    for column in ("at (UTC)", "what", "by", ""):
        table.add_column(column, overflow="fold")
    for event in timeline.events:
        actor = event.actor.role.value + (f" {event.actor.id}" if event.actor.id else "")
        table.add_row(f"{event.at:%Y-%m-%d %H:%M:%S}", event.kind.value, escape(actor), escape(event.summary))
    out = Console(width=160)
    out.print(table)
    if not live:
        out.print("Temporal did not answer: this is the app DB's account alone.")
    for note in timeline.notes:
        out.print(f"  note: {escape(note)}", highlight=False)
