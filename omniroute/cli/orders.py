"""`omniroute orders list|show|cancel|release|unlock-pickup`: find orders in the app DB's read model, then
read and change one through its workflow with the channel SDK. Each command imports what it needs when it runs.

`list` reads the app DB (OMNIROUTE_DATABASE_URL) like the other operator commands; `show`, `cancel`,
`release` and `unlock-pickup` talk to Temporal (OMNIROUTE_TEMPORAL_ADDRESS, OMNIROUTE_TEMPORAL_NAMESPACE,
OMNIROUTE_TASK_QUEUE) as the gateway does, so they need a worker running.
"""

from __future__ import annotations

import asyncio
import getpass
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from models.order import OrderStatus
from omniroute.cli.support import connect_sdk, console, load_settings

if TYPE_CHECKING:
    from models.order import OrderView
    from models.order_search import OrderPage
    from omniroute.client import OmnirouteClient
    from omniroute.config.settings import Settings

_Result = TypeVar("_Result")
# The option that sets each OrderSearch field, to name it in an error.
_OPTION_OF = {"created_from": "--from", "created_to": "--to", "customer_email": "--email", "line_nos": "--line",
              "released_by": "--by", "actor": "--by"}
_NO_ORDER = "no such order workflow"


def add_order_commands(group: typer.Typer) -> None:
    group.command("list")(orders_list)
    group.command("show")(orders_show)
    group.command("cancel")(orders_cancel)
    group.command("release")(orders_release)
    group.command("unlock-pickup")(orders_unlock_pickup)


def orders_list(
    status: Annotated[OrderStatus | None, typer.Option(help="only orders in this status")] = None,
    channel: Annotated[str | None, typer.Option(help="only this channel's orders")] = None,
    node: Annotated[str | None, typer.Option(help="only orders with a shipment at this node")] = None,
    sku: Annotated[str | None, typer.Option(help="only orders with a line of this SKU")] = None,
    email: Annotated[str | None, typer.Option(help="only this customer's orders (any case)")] = None,
    created_from: Annotated[str | None, typer.Option(
        "--from", help="created at or after, ISO 8601 (a date is midnight; no zone is UTC)")] = None,
    created_to: Annotated[str | None, typer.Option("--to", help="created before, ISO 8601")] = None,
    held: Annotated[bool | None, typer.Option("--held/--not-held", help="on hold, or not")] = None,
    backordered: Annotated[bool | None, typer.Option(
        "--backordered/--not-backordered", help="with units waiting for stock, or without")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500, help="orders per page")] = 50,
    cursor: Annotated[str | None, typer.Option(help="the next page's cursor, printed under the previous page")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the page as JSON (GET /v1/orders' answer)")] = False,
) -> None:
    """List orders newest first, filtered by any of the options (all must hold), a page at a time.

    Prints a table (order, channel, status, total, created, nodes, backorders) and, when more orders
    match, the --cursor that gives the next page. Reads the app DB's read model; no customer data is shown.
    Exits 2 naming the option for a bad time, range or cursor.
    """
    from pydantic import ValidationError

    from models.order_search import OrderCursor, OrderSearch
    from store import Store

    try:
        after = None if cursor is None else OrderCursor.decode(cursor)
    except ValueError as err:
        raise typer.BadParameter(str(err), param_hint="--cursor") from None
    try:
        query = OrderSearch(
            status=status, channels=None if channel is None else {channel}, node_id=node, sku=sku,
            customer_email=email, created_from=_time(created_from, "--from"), created_to=_time(created_to, "--to"),
            held=held, backordered=backordered, limit=limit, after=after)
    except ValidationError as err:
        error = err.errors()[0]
        field = str(error["loc"][0]) if error["loc"] else ""
        raise typer.BadParameter(str(error["msg"]), param_hint=_OPTION_OF.get(field, f"--{field}")) from None
    settings = load_settings()
    store = Store.connect(settings.app_database_url)
    try:
        page = store.search_orders(query)
    finally:
        store.dispose()
    if as_json:
        typer.echo(page.model_dump_json(indent=2))
        return
    _print_page(page)


def orders_show(
    order_id: Annotated[str, typer.Argument(help="the order's id, e.g. web-1001")],
    as_json: Annotated[bool, typer.Option("--json", help="print the order view as JSON")] = False,
) -> None:
    """Show an order as its workflow sees it now: status, lines and shipments.

    Asks the order's workflow through Temporal (a worker must be running). Exits 1 for an unknown
    order or when Temporal or a worker does not answer.
    """
    view = _call(lambda client: client.get_order(order_id), f"asking order {order_id}")
    if as_json:
        typer.echo(view.model_dump_json(indent=2))
        return
    _print_order(view)


def orders_cancel(
    order_id: Annotated[str, typer.Argument(help="the order's id, e.g. web-1001")],
    line: Annotated[list[int] | None, typer.Option(
        "--line", min=1, help="a line number to cancel (repeat for more); none: everything not yet shipped")] = None,
    reason: Annotated[str, typer.Option(help="why, kept with the cancellation")] = "operator request",
) -> None:
    """Cancel some lines of an order, or everything not yet shipped, and wait for the outcome.

    Prints the lines and shipments cancelled and the order's status. Exits 1 when the order refuses
    (a line has shipped, it is already cancelled, the order has finished), for an unknown order, or
    when Temporal or a worker does not answer.
    """
    from models.order import CancelOrder

    request = _request(lambda: CancelOrder(line_nos=line or None, reason=reason))
    result = _call(lambda client: client.cancel_order(order_id, request), f"cancelling order {order_id}")
    lines = ", ".join(str(n) for n in result.cancelled_line_nos) or "none"
    shipments = ", ".join(result.cancelled_shipment_ids) or "none"
    Console().print(f"order {escape(order_id)}: cancelled lines {lines}; shipments cancelled {escape(shipments)}; "
                    f"status {result.status}", soft_wrap=True)


def orders_release(
    order_id: Annotated[str, typer.Argument(help="the order's id, e.g. web-1001")],
    reason: Annotated[str, typer.Option(help="why the hold is lifted, kept with the release")],
    by: Annotated[str | None, typer.Option(help="who releases it (default: your user name)")] = None,
) -> None:
    """Release an order the rules held (high value, fraud flag): it goes on to sourcing.

    Waits until the order is planned and prints it. Exits 1 when the order is not on hold or has
    finished, for an unknown order, or when Temporal or a worker does not answer.
    """
    from models.order import ReleaseHold

    request = _request(lambda: ReleaseHold(released_by=by or getpass.getuser(), reason=reason))
    view = _call(lambda client: client.release_hold(order_id, request), f"releasing order {order_id}")
    Console().print(f"order {escape(order_id)} released by {escape(request.released_by)}")
    _print_order(view)


def orders_unlock_pickup(
    order_id: Annotated[str, typer.Argument(help="the order's id, e.g. web-1001")],
    shipment_id: Annotated[str, typer.Argument(help="the pickup's shipment id, e.g. web-1001-S1")],
    reason: Annotated[str, typer.Option(help="why it is unlocked (e.g. the customer showed id at the desk), "
                                             "kept with the unlock")],
    by: Annotated[str | None, typer.Option(help="who unlocks it (default: cli:<your user name>)")] = None,
) -> None:
    """Unlock a BOPIS pickup locked after five wrong pickup codes: the store takes the right code again.

    The count of wrong codes starts over; the fulfilment's history keeps who unlocked it (--by) and why.
    Prints the shipment, its state and the wrong codes tried. Exits 1 when the pickup is not locked (or
    is not a pickup), for a shipment that is not the order's or has no fulfilment, when its fulfilment
    has ended, when Temporal refuses the caller (no permission), or when Temporal or a worker does not
    answer; exits 2 for a malformed shipment id or an empty --reason.
    """
    from models.fulfilment import UnlockPickup
    from models.names import order_id_of_shipment

    try:
        of_order = order_id_of_shipment(shipment_id)
    except ValueError as err:
        raise typer.BadParameter(str(err), param_hint="shipment_id") from None
    request = _request(lambda: UnlockPickup(actor=by or f"cli:{getpass.getuser()}", reason=reason))
    if of_order != order_id:
        _fail(f"unknown shipment {shipment_id!r}: it is not a shipment of order {order_id}")
    unlocked = _call(lambda client: client.unlock_pickup(shipment_id, actor=request.actor, reason=request.reason),
                     f"unlocking the pickup of shipment {shipment_id}", refused="not unlocked",
                     missing="no fulfilment runs or ran for it")
    Console().print(f"pickup of shipment {escape(unlocked.shipment_id)} unlocked by {escape(request.actor)}: "
                    f"{unlocked.wrong_codes} wrong codes were tried; it is {unlocked.state.value} and takes the "
                    "right code again", soft_wrap=True)


def _time(text: str | None, option: str) -> datetime | None:
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not an ISO 8601 time", param_hint=option) from None


def _request(build: Callable[[], _Result]) -> _Result:
    """The request model, or exit 2 with what is wrong in it."""
    from pydantic import ValidationError

    try:
        return build()
    except ValidationError as err:
        error = err.errors()[0]
        field = str(error["loc"][0]) if error["loc"] else ""
        raise typer.BadParameter(str(error["msg"]), param_hint=_OPTION_OF.get(field, f"--{field}")) from None


def _call(action: Callable[[OmnirouteClient], Awaitable[_Result]], doing: str, *, refused: str = "refused",
          missing: str = _NO_ORDER) -> _Result:
    """Run `action` with an SDK client on the configured Temporal, showing what it waits for; the SDK's
    errors, and Temporal refusing the caller, end the command with exit 1 and their message."""
    from temporalio.service import RPCError, RPCStatusCode

    from omniroute.client import (
        NotFoundError,
        RequestRejectedError,
        TemporalUnavailableError,
        WorkflowClosedError,
    )

    settings = load_settings()

    async def run() -> _Result:
        client = await connect_sdk(settings)
        return await action(client)

    try:
        with console.status(f"{doing} through Temporal at {settings.temporal_address}..."):
            return asyncio.run(run())
    except NotFoundError as err:
        _fail(f"{err}: {missing} on {_where(settings)}")
    except WorkflowClosedError as err:
        _fail(str(err))
    except RequestRejectedError as err:
        _fail(f"{refused}: {err}")
    except TemporalUnavailableError as err:
        _fail(f"no answer from {_where(settings)} (is Temporal up, and a worker running?): {err}")
    except RPCError as err:
        if err.status not in (RPCStatusCode.PERMISSION_DENIED, RPCStatusCode.UNAUTHENTICATED):
            raise
        _fail(f"no permission: {_where(settings)} refused the request ({err.message}); check the namespace "
              "and the client certificate (OMNIROUTE_TEMPORAL_TLS_*)")


def _where(settings: Settings) -> str:
    return f"Temporal {settings.temporal_address}, namespace {settings.temporal_namespace}"


def _fail(message: str) -> NoReturn:
    console.print(f"[red]{escape(message)}[/red]", soft_wrap=True)
    raise typer.Exit(1)


def _money(amount: int, currency: str) -> str:
    whole, minor = divmod(abs(amount), 100)
    return f"{'-' if amount < 0 else ''}{whole:,}.{minor:02d} {currency}"


def _print_page(page: OrderPage) -> None:
    from rich.table import Table

    out = Console(width=140)
    if not page.items:
        out.print("no orders match")
        return
    table = Table(title=f"{len(page.items)} orders, newest first")
    for column in ("order", "channel", "status", "total", "created (UTC)", "nodes", "backorders"):
        table.add_column(column, justify="right" if column == "total" else "left", overflow="fold")
    for item in page.items:
        table.add_row(escape(item.order_id), escape(item.channel), item.status.value,
                      _money(item.total.amount, item.total.currency), f"{item.created_at:%Y-%m-%d %H:%M:%S}",
                      escape(", ".join(item.node_ids)), "yes" if item.has_backorders else "")
    out.print(table)
    if page.next_cursor is not None:
        out.print(f"more orders match: add --cursor {page.next_cursor}", soft_wrap=True)


def _print_order(view: OrderView) -> None:
    from rich.table import Table

    out = Console(width=140)
    created = f", created {view.created_at:%Y-%m-%d %H:%M:%S} UTC" if view.created_at else ""
    out.print(f"order {escape(view.order_id)} ({escape(view.channel)} {escape(view.channel_order_id)}): "
              f"{view.status}, total {_money(view.total.amount, view.total.currency)}{created}", soft_wrap=True)
    if view.failure:
        out.print(f"[red]failed:[/red] {escape(view.failure)}", soft_wrap=True)
    lines = Table(title="lines")
    for column in ("line", "SKU", "quantity", "unit price", "status", "cancelled", "backordered"):
        lines.add_column(column, overflow="fold")
    for line in view.lines:
        lines.add_row(str(line.line_no), escape(line.sku), str(line.quantity), _money(line.unit_price, view.currency),
                      line.status.value, str(line.quantity_cancelled or ""), str(line.quantity_backordered or ""))
    out.print(lines)
    if not view.shipments:
        out.print("shipments: none yet")
        return
    shipments = Table(title="shipments")
    for column in ("shipment", "node", "state", "carrier", "tracking", "units"):
        shipments.add_column(column, overflow="fold")
    for s in view.shipments:
        carrier = " ".join(part for part in (s.carrier, s.service) if part)
        shipments.add_row(escape(s.shipment_id), escape(s.node_id), s.state.value, escape(carrier),
                          escape(s.tracking_number or ""), str(sum(line.quantity for line in s.lines)))
    out.print(shipments)
