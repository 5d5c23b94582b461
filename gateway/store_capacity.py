"""A store's `accepted` is held to its daily capacity: the gateway takes a slot of the store's day (its
own time zone) before the event reaches the fulfilment, answers 409 naming `daily_capacity` when none is
left, and gives the slot back when the fulfilment refuses the event after all."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import HTTPException, status

from models.network import NodeKind
from sourcing.business_hours import local_day
from store import Store


def claim_accept_slot(store: Store, shipment_id: str) -> bool:
    """Take a slot for the shipment if its node is a store with a daily capacity: True when one was
    taken now (to give back if the event is refused). Raises 409 when the store's day is full."""
    record = store.get_shipment(shipment_id)
    node = store.get_node(record.node_id) if record is not None else None
    if node is None or node.kind is not NodeKind.STORE or node.daily_capacity is None:
        return False
    day = local_day(node, datetime.now(UTC))
    claim = store.claim_store_capacity(node.node_id, day, shipment_id, node.daily_capacity)
    if claim == "full":
        raise HTTPException(status.HTTP_409_CONFLICT, f"daily_capacity: store {node.node_id} has accepted its "
                            f"{node.daily_capacity} shipment(s) for {day.isoformat()}; accept it another day "
                            "or reject it")
    return claim == "taken"
