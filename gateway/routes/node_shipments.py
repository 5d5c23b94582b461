"""A pull node's WMS reads the shipments released to it and acknowledges them (docs/fulfilment-dc.md).

`GET /v1/nodes/{node_id}/shipments` pages through the node's shipments by shipment id with an opaque
cursor: `state` (default `released`: new work) and `cancel_requested` filter them; with
`cancel_requested` and no `state`, every state. Each item carries the packing list, the customer's
address and the label's URL and format. `POST .../{shipment_id}/ack` is the node's `accepted` event
with a fixed event id, so acknowledging twice, or after picking, is answered 200 with `replay: true`.
A node key reads and acknowledges for its own nodes only (another node's: 404); operators may read.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, status
from starlette.concurrency import run_in_threadpool

from gateway.audit import record_async
from gateway.auth import NodeKey, NodeOrOperatorKey, Principal
from gateway.deps import ClientDep, StoreDep
from gateway.errors import CONFLICT, NOT_FOUND, UNAVAILABLE, field_error
from models.audit import AuditKind
from models.handoff import NodeShipmentAck, NodeShipmentPage
from models.network import NodeId
from models.records import ShipmentRecord
from models.shipment import ShipmentEvent, ShipmentEventType, ShipmentState
from omniroute.client import EventRejectedError, ShipmentNotFoundError
from store import Store

router = APIRouter(prefix="/v1/nodes", tags=["node shipments"])

NodeIdPath = Annotated[NodeId, Path(description="the node's id, e.g. DC-CHI")]
ShipmentIdPath = Annotated[str, Path(min_length=1, max_length=200)]
CURSOR_PREFIX = "s:"


@router.get("/{node_id}/shipments", response_model=NodeShipmentPage, responses=NOT_FOUND)
async def list_node_shipments(
    node_id: NodeIdPath, store: StoreDep, caller: NodeOrOperatorKey,
    state: Annotated[ShipmentState | None, Query(description=(
        "only shipments in this state; default `released`, or every state when `cancel_requested` is given"))] = None,
    cancel_requested: Annotated[bool | None, Query(description="only those asked to cancel (true) or not")] = None,
    cursor: Annotated[str | None, Query(max_length=300, description="`next_cursor` of the page before")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> NodeShipmentPage:
    """The node's shipments as its WMS needs them (lines, ship-to, label URL and format,
    cancel_requested), by shipment id. Unknown node, or another node's: 404. Bad cursor: 422."""
    await _own_node(store, caller, node_id)
    after = _decode_cursor(cursor)
    if state is None and cancel_requested is None:
        state = ShipmentState.RELEASED
    items = await run_in_threadpool(lambda: store.shipments_for_node(
        node_id, state=state, cancel_requested=cancel_requested, after=after, limit=limit + 1))
    more = len(items) > limit
    items = items[:limit]
    return NodeShipmentPage(items=items, next_cursor=_encode_cursor(items[-1].shipment_id) if more else None)


@router.post("/{node_id}/shipments/{shipment_id}/ack", response_model=NodeShipmentAck,
             responses={**NOT_FOUND, **CONFLICT, **UNAVAILABLE})
async def acknowledge_shipment(node_id: NodeIdPath, shipment_id: ShipmentIdPath, store: StoreDep,
                               client: ClientDep, caller: NodeKey) -> NodeShipmentAck:
    """The WMS has the shipment: it moves to `accepted`. Idempotent: a shipment acknowledged before,
    or already picked or further, answers 200 with `replay: true`. Unknown shipment, or not this
    node's: 404; not released yet, cancelled or handed back: 409."""
    await _own_node(store, caller, node_id)
    record = await run_in_threadpool(store.get_shipment, shipment_id)
    if record is None or record.node_id != node_id:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"unknown shipment_id {shipment_id!r} at node {node_id!r}")
    event = ShipmentEvent(shipment_id=shipment_id, type=ShipmentEventType.ACCEPTED, event_id=f"{shipment_id}:ack")
    try:
        applied = await client.send_shipment_event(event)
    except ShipmentNotFoundError:
        raise _not_yet(record) from None
    except EventRejectedError as err:
        current = ShipmentState(err.current_state)
        if current in (ShipmentState.PENDING, ShipmentState.CANCELLED, ShipmentState.RELEASED):
            raise HTTPException(status.HTTP_409_CONFLICT, str(err)) from None
        return NodeShipmentAck(shipment_id=shipment_id, order_id=record.order_id, state=current, replay=True)
    if not applied.replay:
        await record_async(store, caller, AuditKind.SHIPMENT_EVENT, shipment_id, order_id=applied.order_id,
                           type=applied.type.value, to_state=applied.to_state.value)
    return NodeShipmentAck(shipment_id=shipment_id, order_id=applied.order_id, state=applied.to_state,
                           replay=applied.replay)


async def _own_node(store: Store, caller: Principal, node_id: str) -> None:
    if not caller.owns_node(node_id) or await run_in_threadpool(store.get_node, node_id) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"unknown node_id {node_id!r}")


def _not_yet(record: ShipmentRecord) -> HTTPException:
    why = "not released to the node yet" if record.state is ShipmentState.PENDING else "its fulfilment has ended"
    return HTTPException(status.HTTP_409_CONFLICT, f"shipment {record.shipment_id} is {record.state.value}: {why}")


def _encode_cursor(shipment_id: str) -> str:
    return base64.urlsafe_b64encode((CURSOR_PREFIX + shipment_id).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str | None) -> str | None:
    if cursor is None:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    if not text.startswith(CURSOR_PREFIX) or len(text) == len(CURSOR_PREFIX):
        raise field_error(("query", "cursor"), "not a cursor this route gave out", value=cursor)
    return text[len(CURSOR_PREFIX):]
