"""A shipment and its state machine: the warehouse and the carrier move it forward."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from models.inventory import Sku
from models.money import Money


class ShipmentState(StrEnum):
    PENDING = "pending"
    RELEASED = "released"
    PICKED = "picked"
    PACKED = "packed"
    SHIPPED = "shipped"
    IN_TRANSIT = "in_transit"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


class ShipmentEventType(StrEnum):
    PICKED = "picked"
    PACKED = "packed"
    SHIPPED = "shipped"
    IN_TRANSIT = "in_transit"
    DELIVERED = "delivered"


# The forward order of states. An event may skip states (a WMS that only reports "shipped"),
# never go back.
_RANK: dict[ShipmentState, int] = {
    ShipmentState.PENDING: 0,
    ShipmentState.RELEASED: 1,
    ShipmentState.PICKED: 2,
    ShipmentState.PACKED: 3,
    ShipmentState.SHIPPED: 4,
    ShipmentState.IN_TRANSIT: 5,
    ShipmentState.DELIVERED: 6,
}


class InvalidTransition(ValueError):
    pass


def next_state(current: ShipmentState, event: ShipmentEventType) -> ShipmentState:
    """The state after `event`, or InvalidTransition if the event cannot apply now."""
    target = ShipmentState(event.value)
    if current is ShipmentState.CANCELLED:
        raise InvalidTransition(f"shipment is cancelled; cannot apply {event.value}")
    if current is ShipmentState.PENDING:
        raise InvalidTransition(f"shipment is not released to the warehouse yet; cannot apply {event.value}")
    if _RANK[target] <= _RANK[current]:
        raise InvalidTransition(f"shipment is already {current.value}; cannot apply {event.value}")
    return target


def has_left_the_building(state: ShipmentState) -> bool:
    """Shipped or later: stock is gone and the shipment can no longer be cancelled."""
    return state is not ShipmentState.CANCELLED and _RANK[state] >= _RANK[ShipmentState.SHIPPED]


def is_final(state: ShipmentState) -> bool:
    return state in (ShipmentState.DELIVERED, ShipmentState.CANCELLED)


class ShipmentEvent(BaseModel):
    """A warehouse or carrier event for one shipment (sent to its fulfilment workflow as an update)."""

    shipment_id: str = Field(min_length=1)
    type: ShipmentEventType
    event_id: str | None = Field(default=None, max_length=200, description="dedupe key of the sender")
    occurred_at: datetime | None = None


class ShipmentLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    line_no: int = Field(ge=1)
    sku: Sku
    quantity: int = Field(gt=0)


class Label(BaseModel):
    """A purchased carrier label."""

    carrier: str
    service: str
    tracking_number: str
    label_url: str | None = None
    cost: Money
    carrier_shipment_id: str


class ShipmentView(BaseModel):
    shipment_id: str
    node_id: str
    lines: list[ShipmentLine]
    state: ShipmentState
    carrier: str | None = None
    service: str | None = None
    tracking_number: str | None = None
    label_cost: Money | None = None
    shipped_at: datetime | None = None
    delivered_at: datetime | None = None
