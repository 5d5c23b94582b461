"""Order intake, status and cancellation: each order is a Temporal workflow, reached through the SDK."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, Response, status

from gateway.auth import ChannelKey, ChannelOrOperatorKey, OperatorKey, Principal, forbid_channel
from gateway.deps import ClientDep
from gateway.errors import CONFLICT, NOT_FOUND, UNAVAILABLE
from gateway.routes.shipments import ShipmentIdPath
from gateway.validation import require_known_postal_code
from models.order import (
    CancelOrder,
    CancelResult,
    OrderAccepted,
    OrderView,
    PlaceOrder,
    ReleaseHold,
    channel_of_order,
)
from models.reroute import RerouteIn, ShipmentRerouted
from omniroute.errors import OrderNotFoundError

# An order id is `{channel}-{channel_order_id}`: at most 32 + 1 + 100 characters.
OrderIdPath = Annotated[str, Path(min_length=1, max_length=133)]

router = APIRouter(prefix="/v1/orders", tags=["orders"], responses=UNAVAILABLE)


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=OrderAccepted,
    responses={200: {"model": OrderAccepted, "description": "the same order was placed before"}},
)
async def place_order(
    order: PlaceOrder, client: ClientDep, response: Response, caller: ChannelKey
) -> OrderAccepted:
    """Start the order's workflow: 202. The same channel order again (by SDK, webhook or a retry)
    starts nothing new: 200 with the first one's ids and `created: false`. A channel key places
    orders for its own channels only (403 naming the channel otherwise)."""
    if not caller.owns_channel(order.channel):
        raise forbid_channel(order.channel)
    ship_to = order.ship_to
    if ship_to.point is None:  # coordinates locate the address on their own
        require_known_postal_code(ship_to.country, ship_to.postal_code, ("body", "ship_to", "postal_code"))
    accepted = await client.place_order(order)
    if not accepted.created:
        response.status_code = status.HTTP_200_OK
    return accepted


@router.get("/{order_id}", response_model=OrderView, responses=NOT_FOUND)
async def get_order(order_id: OrderIdPath, client: ClientDep, caller: ChannelOrOperatorKey) -> OrderView:
    """The order as its workflow sees it now: lines, shipments, status and what happened. A channel
    key sees its own channels' orders only (another's: 404)."""
    _own_order(caller, order_id)
    return await client.get_order(order_id)


@router.post("/{order_id}/cancel", response_model=CancelResult, responses={**NOT_FOUND, **CONFLICT})
async def cancel_order(
    order_id: OrderIdPath, client: ClientDep, caller: ChannelOrOperatorKey,
    request: Annotated[CancelOrder | None, Body()] = None,
) -> CancelResult:
    """Cancel the given lines, or with no body everything not yet shipped. 409 with the reason when
    the order cannot cancel them (shipped, already cancelled, or the order has finished)."""
    _own_order(caller, order_id)
    return await client.cancel_order(order_id, request or CancelOrder())


@router.post("/{order_id}/release", response_model=OrderView, responses={**NOT_FOUND, **CONFLICT})
async def release_hold(
    order_id: OrderIdPath, request: ReleaseHold, client: ClientDep, _caller: OperatorKey
) -> OrderView:
    """An operator releases an order the rules held (high value, fraud flag, address mismatch): it
    goes on to sourcing, and the answer is the order once planned. 409 if it is not on hold."""
    return await client.release_hold(order_id, request)


def _own_order(caller: Principal, order_id: str) -> None:
    """404 for an order of a channel the key does not serve: its existence does not leak."""
    if not caller.owns_channel(channel_of_order(order_id)):
        raise OrderNotFoundError(order_id)


@router.post("/{order_id}/shipments/{shipment_id}/reroute", response_model=ShipmentRerouted,
             responses={**NOT_FOUND, **CONFLICT})
async def reroute_shipment(
    order_id: OrderIdPath, shipment_id: ShipmentIdPath, request: RerouteIn, client: ClientDep, caller: OperatorKey
) -> ShipmentRerouted:
    """An operator moves a shipment not yet released to another node: re-planned from that node, its
    stock reserved there and released at the old node in one transaction, and the order's decision
    explains the move (the key's id as who did it). 404 for an unknown order; 409 naming why it cannot
    move (no such shipment, already released, shipped or cancelled, the same node, an unknown or
    inactive node or one that does not ship, not enough stock there, the order on hold or finished)."""
    return await client.reroute_shipment(order_id, shipment_id, request.node_id, actor=caller.key_id,
                                         reason=request.reason)
