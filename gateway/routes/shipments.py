"""Warehouse and carrier events that move a shipment along its state machine.

The gateway checks each event against the shipment's current state (from its order's status query)
before signalling, so a sender learns at once that an event cannot apply (409, naming the state).
Redelivery: an event that carries an `event_id` and names the state the shipment is already in is
taken as the sender's retry and answered 202 with `signalled: false`; without an `event_id` the same
event is a 409, since nothing says it is a retry.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status
from starlette.concurrency import run_in_threadpool

from gateway.deps import ClientDep, StoreDep
from gateway.errors import CONFLICT, NOT_FOUND, UNAVAILABLE
from models.api import ShipmentEventAccepted, ShipmentEventIn
from models.shipment import InvalidTransition, ShipmentEvent, ShipmentState, next_state

router = APIRouter(prefix="/v1/shipments", tags=["shipments"], responses=UNAVAILABLE)


@router.post(
    "/{shipment_id}/events",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ShipmentEventAccepted,
    responses={**NOT_FOUND, **CONFLICT},
)
async def post_shipment_event(
    shipment_id: str, event: ShipmentEventIn, store: StoreDep, client: ClientDep
) -> ShipmentEventAccepted:
    """Move the shipment on (picked, packed, shipped, in_transit, delivered; states may be skipped,
    never gone back). Unknown shipment: 404. An event that cannot apply now: 409."""
    record = await run_in_threadpool(store.get_shipment, shipment_id)
    if record is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"unknown shipment_id {shipment_id!r}")
    order = await client.get_order(record.order_id)
    # The workflow's view is current; the DB's read model may lag behind it.
    current = next((s.state for s in order.shipments if s.shipment_id == shipment_id), record.state)
    target = ShipmentState(event.type.value)

    def accepted(signalled: bool) -> ShipmentEventAccepted:
        return ShipmentEventAccepted(
            shipment_id=shipment_id, order_id=record.order_id, type=event.type,
            from_state=current, to_state=target, signalled=signalled,
        )

    if current is target and event.event_id is not None:
        return accepted(signalled=False)
    try:
        next_state(current, event.type)
    except InvalidTransition as err:
        raise HTTPException(
            status.HTTP_409_CONFLICT, f"shipment {shipment_id!r} is {current.value}: {err}"
        ) from err
    await client.send_shipment_event(
        ShipmentEvent(shipment_id=shipment_id, type=event.type, event_id=event.event_id, occurred_at=event.occurred_at)
    )
    return accepted(signalled=True)
