"""Warehouse and carrier events that move a shipment along its state machine.

Each event is one update on the shipment's fulfilment workflow, whose validator checks the
transition before anything is written: applied, the answer is 202 with the move it made; refused,
409 naming the state the shipment is in. Redelivery: an event whose `event_id` the shipment has
applied before is answered 202 with `replay: true` and `signalled: false` (nothing moved); without an
`event_id` a repeated event is a 409, since nothing says it is a retry. A node's accepted, picked, packed
or shipped for a shipment the carrier scanned before the node reported it shipped is done already: 202
with `replay: true`, `carrier_first: true`, nothing moved (never a 409, never backwards). Only when no fulfilment runs
or ran for the shipment does the gateway read the DB, to tell an unknown shipment (404) from one
that is planned but not released to the warehouse yet, or cancelled before release (409).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, status
from starlette.concurrency import run_in_threadpool

from gateway.audit import record_async
from gateway.auth import NodeKey
from gateway.deps import ClientDep, StoreDep
from gateway.errors import CONFLICT, NOT_FOUND, UNAVAILABLE
from gateway.store_capacity import claim_accept_slot
from models.api import ShipmentEventAccepted, ShipmentEventIn
from models.audit import AuditKind
from models.shipment import ShipmentEvent, ShipmentEventType, ShipmentState
from omniroute.client import ShipmentNotFoundError
from store import Store

# A shipment id is `{order_id}-S{n}`.
ShipmentIdPath = Annotated[str, Path(min_length=1, max_length=200)]

router = APIRouter(prefix="/v1/shipments", tags=["shipments"], responses=UNAVAILABLE)


@router.post(
    "/{shipment_id}/events",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ShipmentEventAccepted,
    responses={**NOT_FOUND, **CONFLICT},
)
async def post_shipment_event(
    shipment_id: ShipmentIdPath, event: ShipmentEventIn, store: StoreDep, client: ClientDep, caller: NodeKey
) -> ShipmentEventAccepted:
    """Move the shipment on (picked, packed, shipped, in_transit, delivered; states may be skipped,
    never gone back). Unknown shipment: 404. An event that cannot apply now, or a shipment not
    released to the warehouse: 409 naming its state. A seen `event_id`: 202 with `replay: true`.
    A node's step the carrier's scan overtook: 202 with `replay: true` and `carrier_first: true`.
    A node key moves its own nodes' shipments only (another node's: 404, read from the DB first). A
    store's `accepted` beyond its daily capacity (its own day): 409 naming daily_capacity."""
    if not caller.sees_everything:
        record = await run_in_threadpool(store.get_shipment, shipment_id)
        if record is None or not caller.owns_node(record.node_id):
            raise ShipmentNotFoundError(shipment_id)
    slot = event.type is ShipmentEventType.ACCEPTED and await run_in_threadpool(claim_accept_slot, store, shipment_id)
    try:
        applied = await client.send_shipment_event(ShipmentEvent(shipment_id=shipment_id, **event.model_dump()))
    except BaseException as err:
        if slot:  # the store's day keeps the slot for work it really accepted
            await run_in_threadpool(store.release_store_capacity, shipment_id)
        if isinstance(err, ShipmentNotFoundError):
            raise await _without_fulfilment(store, shipment_id, event.type) from None
        raise
    if not applied.replay:
        await record_async(store, caller, AuditKind.SHIPMENT_EVENT, shipment_id, order_id=applied.order_id,
                           type=applied.type.value, to_state=applied.to_state.value)
    return ShipmentEventAccepted(
        shipment_id=applied.shipment_id, order_id=applied.order_id, type=applied.type,
        from_state=applied.from_state, to_state=applied.to_state, signalled=not applied.replay,
        replay=applied.replay, carrier_first=applied.carrier_first,
    )


async def _without_fulfilment(store: Store, shipment_id: str, kind: ShipmentEventType) -> HTTPException:
    """Why a shipment with no fulfilment workflow cannot take the event, from its DB record."""
    record = await run_in_threadpool(store.get_shipment, shipment_id)
    if record is None:
        return HTTPException(status.HTTP_404_NOT_FOUND, f"unknown shipment_id {shipment_id!r}")
    if record.state is ShipmentState.PENDING:
        why = "not released to the warehouse yet"
    elif record.state is ShipmentState.CANCELLED:
        why = f"cancelled before release; cannot apply {kind.value}"
    elif record.state is ShipmentState.RELEASED:
        why = "its fulfilment has not started yet; retry shortly"
    else:
        why = f"no fulfilment takes its events; cannot apply {kind.value}"
    return HTTPException(status.HTTP_409_CONFLICT, f"shipment {shipment_id} is {record.state.value}: {why}")
