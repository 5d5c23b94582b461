"""What the app DB keeps about orders, shipments and returns (the read model)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from models.address import Address
from models.audit import SYSTEM, Actor
from models.inventory import MovementKind
from models.order import Customer, HoldReason, OrderLineIn, OrderStatus
from models.plan import SourcingDecision
from models.returns import ReturnLine, ReturnStatus
from models.shipment import ShipmentLine, ShipmentState, TrackingException


class OrderRecord(BaseModel):
    order_id: str
    workflow_id: str
    channel: str
    channel_order_id: str
    status: OrderStatus
    currency: str
    customer: Customer
    ship_to: Address
    lines: list[OrderLineIn]
    created_at: datetime
    decision: SourcingDecision | None = Field(default=None, description="set once the order is planned")


class OrderStatusChange(BaseModel):
    """Move an order's read-model status; with `backordered_skus`, also replace what it waits for."""

    order_id: str
    status: OrderStatus
    backordered_skus: list[str] | None = Field(default=None, description="SKUs waiting for stock (None: unchanged)")
    hold_reason: HoldReason | None = Field(default=None, description="why it is held (None: not held)")


class ShipmentRecord(BaseModel):
    shipment_id: str
    order_id: str
    node_id: str
    lines: list[ShipmentLine]
    state: ShipmentState
    carrier: str | None = None
    service: str | None = None
    tracking_number: str | None = None
    carrier_shipment_id: str | None = None
    label_cost: int | None = Field(default=None, description="minor units, in the order's currency")
    currency: str | None = None
    shipped_at: datetime | None = None
    delivered_at: datetime | None = None
    label_url: str | None = None
    label_format: str | None = None
    exception: TrackingException | None = None
    pickup: bool = False
    cancel_requested: bool = False


class ReturnRecord(BaseModel):
    rma: str
    order_id: str
    status: ReturnStatus
    lines: list[ReturnLine]
    reason: str
    return_node_id: str | None = None
    tracking_number: str | None = None
    refund_amount: int | None = None
    currency: str | None = None
    created_at: datetime
    received_at: datetime | None = None


class Movement(BaseModel):
    """One append-only ledger row.

    `created_at` is when the row was written; `as_of` is when the sender observed the change, for
    the feed items that said so (a WMS count, a 3PL pull), else None; `actor` who made it.
    """

    movement_id: int
    node_id: str
    sku: str
    kind: MovementKind
    on_hand_delta: int
    reserved_delta: int
    key: str | None
    reason: str
    source: str
    created_at: datetime
    as_of: datetime | None = Field(default=None, description="when the sender observed it, if it said so")
    actor: Actor = Field(default=SYSTEM, description="who made it: a key, a workflow or the system")
