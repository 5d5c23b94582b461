"""`omniroute orders reroute`: move a shipment not yet released to another node, through the order's
workflow (the same update the gateway's reroute route sends)."""

from __future__ import annotations

import asyncio
import getpass
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from models.reroute import DEFAULT_REROUTE_REASON
from omniroute.cli.support import connect_sdk, console, load_settings

if TYPE_CHECKING:
    from models.reroute import ShipmentRerouted
    from omniroute.config.settings import Settings


def orders_reroute(
    order_id: Annotated[str, typer.Argument(help="the order's id, e.g. web-1001")],
    shipment_id: Annotated[str, typer.Argument(help="the shipment's id, e.g. web-1001-S1")],
    node: Annotated[str, typer.Option("--node", help="the node to ship from instead")],
    reason: Annotated[str, typer.Option(help="why, kept in the order's decision")] = DEFAULT_REROUTE_REASON,
) -> None:
    """Reroute a shipment not yet released (one waiting for its release wave) to another node.

    The order re-plans the shipment from that node (service, cost, delivery date), moves its
    reservations there in one transaction and records the move, with cli:<your user name> as who made
    it. Prints the move; exits 1 naming why when the order refuses it (released, shipped or cancelled,
    the same node, an unknown or inactive node, not enough stock there) or cannot be reached; exits 2
    for a malformed node id.
    """
    settings = load_settings()
    from pydantic import ValidationError

    from models.reroute import RerouteShipment
    from omniroute.client import NotFoundError, OmnirouteError

    actor = f"cli:{getpass.getuser()}"
    try:
        RerouteShipment(shipment_id=shipment_id, node_id=node, actor=actor, reason=reason)
    except ValidationError as err:
        for error in err.errors():
            where = "--node" if error["loc"] == ("node_id",) else ".".join(str(part) for part in error["loc"])
            console.print(f"[red]invalid request:[/red] {escape(where)}: {escape(str(error['msg']))}", soft_wrap=True)
        raise typer.Exit(2) from None
    try:
        moved = asyncio.run(_reroute(settings, order_id, shipment_id, node, actor, reason))
    except NotFoundError as err:
        console.print(f"[red]not found:[/red] {escape(str(err))}", soft_wrap=True)
        raise typer.Exit(1) from None
    except OmnirouteError as err:
        console.print(f"[red]not rerouted:[/red] {escape(str(err))}", soft_wrap=True)
        raise typer.Exit(1) from None
    print(moved.explanation)


async def _reroute(settings: Settings, order_id: str, shipment_id: str, node: str, actor: str,
                   reason: str) -> ShipmentRerouted:

    client = await connect_sdk(settings)
    return await client.reroute_shipment(order_id, shipment_id, node, actor=actor, reason=reason)
