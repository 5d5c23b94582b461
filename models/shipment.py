"""A shipment and its state machine: the warehouse and the carrier move it forward."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from models.inventory import Sku
from models.money import Money
from models.text import PlainText


class ShipmentState(StrEnum):
    PENDING = "pending"
    RELEASED = "released"
    ACCEPTED = "accepted"
    PICKED = "picked"
    PACKED = "packed"
    READY_FOR_PICKUP = "ready_for_pickup"
    SHIPPED = "shipped"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    COLLECTED = "collected"
    CANCELLED = "cancelled"


class ShipmentEventType(StrEnum):
    """What a node, a partner or a carrier reports. Most move the shipment to the state of the same
    name; `rejected` and `short_picked` hand lines back, `arrived` (curbside) and `exception` (carrier)
    record without moving, `cancelled` is a node's yes to a cancel it was asked for."""

    ACCEPTED = "accepted"
    REJECTED = "rejected"
    PICKED = "picked"
    SHORT_PICKED = "short_picked"
    PACKED = "packed"
    READY_FOR_PICKUP = "ready_for_pickup"
    ARRIVED = "arrived"
    COLLECTED = "collected"
    SHIPPED = "shipped"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    EXCEPTION = "exception"
    CANCELLED = "cancelled"


class TrackingException(StrEnum):
    """A carrier's exception on a shipment that has left (EasyPost tracker statuses)."""

    FAILED_ATTEMPT = "failed_attempt"
    RETURNED_TO_SENDER = "returned_to_sender"
    AVAILABLE_FOR_PICKUP = "available_for_pickup"
    OTHER = "other"


# The forward order of states. An event may skip states (a WMS that only reports "shipped"),
# never go back. Collected (a pickup's end) ranks with delivered.
_RANK: dict[ShipmentState, int] = {
    ShipmentState.PENDING: 0,
    ShipmentState.RELEASED: 1,
    ShipmentState.ACCEPTED: 2,
    ShipmentState.PICKED: 3,
    ShipmentState.PACKED: 4,
    ShipmentState.READY_FOR_PICKUP: 5,
    ShipmentState.SHIPPED: 6,
    ShipmentState.IN_TRANSIT: 7,
    ShipmentState.OUT_FOR_DELIVERY: 8,
    ShipmentState.DELIVERED: 9,
    ShipmentState.COLLECTED: 9,
}

# Events that hand lines back or answer a cancel: allowed only before the shipment is picked
# (rejected) or before it leaves (short_picked, cancelled).
_BEFORE_PICK = {ShipmentEventType.REJECTED}
_BEFORE_LEAVING = {ShipmentEventType.SHORT_PICKED, ShipmentEventType.CANCELLED}


class InvalidTransition(ValueError):
    pass


def next_state(current: ShipmentState, event: ShipmentEventType) -> ShipmentState:
    """The state after `event`, or InvalidTransition if the event cannot apply now. Which events a
    node kind may send at all is its fulfilment protocol's business; this is the shared machine."""
    if current is ShipmentState.CANCELLED:
        raise InvalidTransition(f"shipment is cancelled; cannot apply {event.value}")
    if current is ShipmentState.PENDING:
        raise InvalidTransition(f"shipment is not released to the node yet; cannot apply {event.value}")
    if is_final(current):
        raise InvalidTransition(f"shipment is already {current.value}; cannot apply {event.value}")
    if event in _BEFORE_PICK:
        if _RANK[current] >= _RANK[ShipmentState.PICKED]:
            raise InvalidTransition(f"shipment is already {current.value}; cannot apply {event.value}")
        return ShipmentState.CANCELLED
    if event in _BEFORE_LEAVING:
        if has_left_the_building(current) or current is ShipmentState.READY_FOR_PICKUP:
            raise InvalidTransition(f"shipment is already {current.value}; cannot apply {event.value}")
        if event is ShipmentEventType.SHORT_PICKED:
            if _RANK[current] >= _RANK[ShipmentState.PICKED]:
                raise InvalidTransition(f"shipment is already {current.value}; cannot apply {event.value}")
            return ShipmentState.PICKED
        return ShipmentState.CANCELLED
    if event is ShipmentEventType.ARRIVED:
        if current is not ShipmentState.READY_FOR_PICKUP:
            raise InvalidTransition(f"shipment is {current.value}, not ready for pickup; cannot apply arrived")
        return current
    if event is ShipmentEventType.EXCEPTION:
        if not has_left_the_building(current):
            raise InvalidTransition(f"shipment is {current.value}, not with a carrier; cannot apply exception")
        return current
    if event is ShipmentEventType.COLLECTED and current is not ShipmentState.READY_FOR_PICKUP:
        raise InvalidTransition(f"shipment is {current.value}, not ready for pickup; cannot apply collected")
    target = ShipmentState(event.value)
    if _RANK[target] <= _RANK[current]:
        raise InvalidTransition(f"shipment is already {current.value}; cannot apply {event.value}")
    return target


def has_left_the_building(state: ShipmentState) -> bool:
    """Shipped, collected or later: stock is gone and the shipment can no longer be cancelled."""
    return state is not ShipmentState.CANCELLED and _RANK[state] >= _RANK[ShipmentState.SHIPPED]


def is_final(state: ShipmentState) -> bool:
    return state in (ShipmentState.DELIVERED, ShipmentState.COLLECTED, ShipmentState.CANCELLED)


def is_delivered(state: ShipmentState) -> bool:
    """The customer has it: delivered by a carrier or collected at a store."""
    return state in (ShipmentState.DELIVERED, ShipmentState.COLLECTED)


class PickedLine(BaseModel):
    """In a `short_picked` event: how many units of a SKU the node found (the rest is short)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sku: Sku
    quantity_picked: int = Field(ge=0, le=1_000_000_000)


class ShipmentEventData(BaseModel):
    """The data an event type carries: `reason` (rejected; optional on exception and cancelled),
    `lines` (short_picked), `spot` (arrived), `pickup_code` (collected), `carrier` and
    `tracking_number` (shipped by a node that buys its own label: a 3PL, a vendor), `exception`
    (exception)."""

    reason: PlainText | None = Field(default=None, max_length=500)
    lines: list[PickedLine] | None = Field(default=None, max_length=200)
    spot: PlainText | None = Field(default=None, max_length=50)
    pickup_code: PlainText | None = Field(default=None, max_length=32)
    carrier: PlainText | None = Field(default=None, max_length=50)
    tracking_number: PlainText | None = Field(default=None, max_length=100)
    exception: TrackingException | None = None

    @model_validator(mode="after")
    def _required_by_type(self) -> ShipmentEventData:
        kind = getattr(self, "type", None)
        needs = {ShipmentEventType.REJECTED: "reason", ShipmentEventType.SHORT_PICKED: "lines",
                 ShipmentEventType.ARRIVED: "spot", ShipmentEventType.COLLECTED: "pickup_code",
                 ShipmentEventType.EXCEPTION: "exception"}
        if not isinstance(kind, ShipmentEventType):
            return self
        field = needs.get(kind)
        if field is not None and not getattr(self, field):
            raise ValueError(f"a {kind.value} event needs `{field}`")
        if kind is ShipmentEventType.SHORT_PICKED and self.lines is not None:
            skus = [line.sku for line in self.lines]
            if len(set(skus)) != len(skus):
                raise ValueError("`lines` names a SKU twice")
        return self


class ShipmentEvent(ShipmentEventData):
    """A node, partner or carrier event for one shipment (sent to its fulfilment workflow as an update)."""

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
    label_format: str | None = Field(default=None, description="PDF, PNG or ZPL")
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
    label_url: str | None = None
    label_format: str | None = None
    pickup: bool = Field(default=False, description="the customer collects it at the node (BOPIS, curbside)")
    exception: TrackingException | None = Field(default=None, description="the carrier's last exception")
    cancel_requested: bool = Field(default=False, description="the node has been asked to cancel it")
    curbside_spot: str | None = Field(default=None, description=(
        "curbside: where the customer who has arrived is parked (the store's alert)"))
