"""Order intake, status and cancellation: each order is a Temporal workflow, reached through the SDK. The
list and search of orders reads the app DB's read model."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Body, Path, Query, Response, status
from pydantic import EmailStr, ValidationError
from starlette.concurrency import run_in_threadpool

from gateway.audit import record_async
from gateway.auth import ChannelKey, ChannelOrOperatorKey, OperatorKey, Principal, forbid_channel
from gateway.deps import ClientDep, StoreDep
from gateway.errors import CONFLICT, NOT_FOUND, UNAVAILABLE, field_error
from gateway.routes.shipments import ShipmentIdPath
from gateway.validation import require_known_postal_code, require_pickup_store
from models.audit import AuditKind
from models.fulfilment import PickupUnlocked, UnlockPickupIn
from models.inventory import Sku
from models.names import order_id_of_shipment
from models.network import NodeId
from models.order import (
    CancelOrder,
    CancelResult,
    ChannelName,
    HoldReason,
    OrderAccepted,
    OrderStatus,
    OrderView,
    PlaceOrder,
    ReleaseHold,
    channel_of_order,
)
from models.order_search import (
    DEFAULT_PAGE_SIZE,
    MAX_CURSOR_CHARS,
    MAX_PAGE_SIZE,
    OrderCursor,
    OrderPage,
    OrderSearch,
)
from models.reroute import RerouteIn, ShipmentRerouted
from models.shipment import TrackingException
from omniroute.errors import OrderNotFoundError, ShipmentNotFoundError

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
    order: PlaceOrder, client: ClientDep, store: StoreDep, response: Response, caller: ChannelKey
) -> OrderAccepted:
    """Start the order's workflow: 202. The same channel order again (by SDK, webhook or a retry)
    starts nothing new: 200 with the first one's ids and `created: false`. A channel key places
    orders for its own channels only (403 naming the channel otherwise)."""
    if not caller.owns_channel(order.channel):
        raise forbid_channel(order.channel)
    ship_to = order.ship_to
    if ship_to is not None and ship_to.point is None:  # coordinates locate the address on their own
        require_known_postal_code(ship_to.country, ship_to.postal_code, ("body", "ship_to", "postal_code"))
    if order.pickup is not None:
        await run_in_threadpool(require_pickup_store, store, order.pickup)
    accepted = await client.place_order(order)
    if not accepted.created:
        response.status_code = status.HTTP_200_OK
    else:
        await record_async(store, caller, AuditKind.ORDER_INTAKE, accepted.order_id, order_id=accepted.order_id,
                           channel=order.channel, lines=len(order.lines))
    return accepted


@router.get("", response_model=OrderPage)
def list_orders(
    store: StoreDep,
    caller: ChannelOrOperatorKey,
    order_status: Annotated[OrderStatus | None, Query(alias="status")] = None,
    channel: Annotated[ChannelName | None, Query()] = None,
    node_id: Annotated[NodeId | None, Query(description="orders with a shipment at this node")] = None,
    sku: Annotated[Sku | None, Query(description="orders with a line of this SKU")] = None,
    customer_email: Annotated[EmailStr | None, Query(
        max_length=254, description="the customer's e-mail, matched whole and without regard to case")] = None,
    created_from: Annotated[datetime | None, Query(description="created at or after (default time zone: UTC)")] = None,
    created_to: Annotated[datetime | None, Query(description="created before (default time zone: UTC)")] = None,
    held: Annotated[bool | None, Query(description="true: on hold (status held); false: not on hold")] = None,
    hold_reason: Annotated[HoldReason | None, Query(
        description="held for this reason: review (an intake rule), payment (not authorised), address (not "
                    "verified by the carrier), carrier (no label could be bought)")] = None,
    backordered: Annotated[bool | None, Query(description="true: units waiting for stock; false: none")] = None,
    exception: Annotated[bool | None, Query(
        description="true: a shipment has a carrier exception open (failed attempt, returned, held for "
                    "pickup at the carrier); false: none has")] = None,
    tracking_exception: Annotated[TrackingException | None, Query(
        description="a shipment has this carrier exception open")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
    cursor: Annotated[str | None, Query(
        max_length=MAX_CURSOR_CHARS, description="the `next_cursor` of the previous page")] = None,
) -> OrderPage:
    """Orders matching every filter given, newest first (by creation time, then order id), a page at a
    time: pass `next_cursor` as `cursor` for the next page until it is null. Pages neither repeat nor
    skip an order, however many share a creation time, and orders placed meanwhile do not shift them.
    A bad filter or cursor is a 422 naming it. An operator or admin key searches every channel; a
    channel key its own channels only (a `channel` filter naming another: 403). A summary carries no
    personal data (no name, e-mail or address), also when searching by e-mail: the order itself
    (GET /v1/orders/{order_id}) has those."""
    if channel is not None and not caller.owns_channel(channel):
        raise forbid_channel(channel)
    scope = caller.channels if channel is None and not caller.sees_everything else None
    try:
        after = None if cursor is None else OrderCursor.decode(cursor)
    except ValueError as err:
        raise field_error(("query", "cursor"), str(err), value=cursor) from None
    try:
        query = OrderSearch(
            status=order_status, channels={channel} if channel is not None else scope, node_id=node_id, sku=sku,
            customer_email=customer_email, created_from=created_from, created_to=created_to, held=held,
            hold_reason=hold_reason,
            backordered=backordered, exception=exception, tracking_exception=tracking_exception, limit=limit,
            after=after)
    except ValidationError as err:
        error = err.errors()[0]
        raise field_error(("query", *error["loc"]), error["msg"], value=error.get("input")) from None
    return store.search_orders(query)


@router.get("/{order_id}", response_model=OrderView, responses=NOT_FOUND)
async def get_order(order_id: OrderIdPath, client: ClientDep, caller: ChannelOrOperatorKey) -> OrderView:
    """The order as its workflow sees it now: lines, shipments, status and what happened. A channel
    key sees its own channels' orders only (another's: 404)."""
    _own_order(caller, order_id)
    return await client.get_order(order_id)


@router.post("/{order_id}/cancel", response_model=CancelResult, responses={**NOT_FOUND, **CONFLICT})
async def cancel_order(
    order_id: OrderIdPath, client: ClientDep, store: StoreDep, caller: ChannelOrOperatorKey,
    request: Annotated[CancelOrder | None, Body()] = None,
) -> CancelResult:
    """Cancel the given lines, or with no body everything not yet shipped. 409 with the reason when
    the order cannot cancel them (shipped, already cancelled, or the order has finished)."""
    _own_order(caller, order_id)
    result = await client.cancel_order(order_id, request or CancelOrder())
    await record_async(store, caller, AuditKind.ORDER_CANCEL, order_id, order_id=order_id,
                       lines=result.cancelled_line_nos, shipments=result.cancelled_shipment_ids)
    return result


@router.post("/{order_id}/release", response_model=OrderView, responses={**NOT_FOUND, **CONFLICT})
async def release_hold(
    order_id: OrderIdPath, request: ReleaseHold, client: ClientDep, store: StoreDep, caller: OperatorKey
) -> OrderView:
    """An operator releases an order the rules held (high value, fraud flag, address mismatch): it
    goes on to sourcing, and the answer is the order once planned. 409 if it is not on hold."""
    view = await client.release_hold(order_id, request)
    await record_async(store, caller, AuditKind.ORDER_RELEASE, order_id, order_id=order_id, status=view.status.value)
    return view


def _own_order(caller: Principal, order_id: str) -> None:
    """404 for an order of a channel the key does not serve: its existence does not leak."""
    if not caller.owns_channel(channel_of_order(order_id)):
        raise OrderNotFoundError(order_id)


@router.post("/{order_id}/shipments/{shipment_id}/reroute", response_model=ShipmentRerouted,
             responses={**NOT_FOUND, **CONFLICT})
async def reroute_shipment(
    order_id: OrderIdPath, shipment_id: ShipmentIdPath, request: RerouteIn, client: ClientDep, store: StoreDep,
    caller: OperatorKey,
) -> ShipmentRerouted:
    """An operator moves a shipment not yet released to another node: re-planned from that node, its
    stock reserved there and released at the old node in one transaction, and the order's decision
    explains the move (the key's id as who did it). 404 for an unknown order; 409 naming why it cannot
    move (no such shipment, already released, shipped or cancelled, the same node, an unknown or
    inactive node or one that does not ship, not enough stock there, the order on hold or finished)."""
    moved = await client.reroute_shipment(order_id, shipment_id, request.node_id, actor=caller.key_id,
                                          reason=request.reason)
    await record_async(store, caller, AuditKind.ORDER_REROUTE, order_id, order_id=order_id, shipment_id=shipment_id,
                       from_node_id=moved.from_node_id, to_node_id=moved.to_node_id)
    return moved


@router.post("/{order_id}/shipments/{shipment_id}/unlock-pickup", response_model=PickupUnlocked,
             responses={**NOT_FOUND, **CONFLICT})
async def unlock_pickup(
    order_id: OrderIdPath, shipment_id: ShipmentIdPath, client: ClientDep, store: StoreDep, caller: OperatorKey,
    request: Annotated[UnlockPickupIn | None, Body()] = None,
) -> PickupUnlocked:
    """An operator unlocks a pickup locked after too many wrong pickup codes (the customer contacted the
    store): `collected` with the right code is taken again and the count of wrong codes starts over.
    The key's id is recorded as who did it. 404 for a shipment not of that order or not released; 409
    when the pickup is not locked, is not a pickup, or its fulfilment has ended."""
    try:
        of_order = order_id_of_shipment(shipment_id)
    except ValueError:
        of_order = None
    if of_order != order_id:
        raise ShipmentNotFoundError(shipment_id)
    body = request or UnlockPickupIn()
    unlocked = await client.unlock_pickup(shipment_id, actor=caller.key_id, reason=body.reason)
    await record_async(store, caller, AuditKind.PICKUP_UNLOCK, shipment_id, order_id=order_id,
                       wrong_codes=unlocked.wrong_codes)
    return unlocked
