"""Commands the workflows send to activities, and what comes back. One input and one result type each."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, Field

from models.address import Address
from models.costs import ServiceLevel
from models.money import Money
from models.order import OrderLineIn
from models.plan import FulfillmentPlan
from models.records import OrderRecord
from models.returns import ReturnLine
from models.rules import RuleOutcome
from models.shipment import ShipmentLine


class AllocateStock(BaseModel):
    """Plan an order's lines from a fresh ATP snapshot and reserve the plan, re-planning if stock moved."""

    order_id: str
    ship_to: Address
    lines: list[ShipmentLine]
    expires_at: datetime | None = Field(default=None, description="default: now + the worker's reservation TTL")
    rules: RuleOutcome | None = Field(default=None, description="what the intake rules decided for sourcing")
    service_level: ServiceLevel | None = None
    deliver_by: date | None = Field(default=None, description="the delivery date promised to the customer")
    first_shipment_no: int = Field(default=1, ge=1, description="the number of the first new shipment (a backorder "
                                   "planned later continues after the order's shipments)")
    exclude_nodes: list[str] = Field(default_factory=list, description="nodes that handed this order's work back")
    pickup_only: bool = Field(default=False, description=(
        "a pickup order: planned only at stores offering pickup, nearest to `ship_to` (the chosen store)"))
    pickup_at: str | None = Field(default=None, description="with pickup_only: this store and no other")
    curbside: bool = Field(default=False, description="with pickup_only: stores offering curbside only")


class StockAllocated(BaseModel):
    plan: FulfillmentPlan
    shipment_ids: list[str] = Field(description="one per planned shipment, same order")
    reservation_keys: dict[str, list[str]] = Field(description="shipment id -> its reservation keys")
    attempts: int
    hold: timedelta | None = Field(default=None, description="release waves on: how long the shipments wait for one")


class WavePlan(BaseModel):
    """A release wave's new plan for one waiting order (signal to the order)."""

    wave_id: str
    plan: FulfillmentPlan
    saving_cents: float = Field(description="what the wave saves over the plans it replaces (all its orders)")


class SwapReservations(BaseModel):
    """Replace an order's not-yet-released shipments by a new plan: release the old reservations and
    reserve the new ones in one transaction, or change nothing."""

    order_id: str
    release_keys: list[str]
    plan: FulfillmentPlan
    first_shipment_no: int = Field(ge=1)
    rules: RuleOutcome | None = None
    reason: str


class SwapResult(BaseModel):
    ok: bool
    reason: str = ""
    shipment_ids: list[str] = Field(default_factory=list)
    reservation_keys: dict[str, list[str]] = Field(default_factory=dict)


class ReleaseStock(BaseModel):
    keys: list[str]
    reason: str


class ShortPick(BaseModel):
    """A node picked fewer units than reserved: reservation key -> units short."""

    short: dict[str, int]
    reason: str


class CommitStock(BaseModel):
    keys: list[str]


class RestockItem(BaseModel):
    node_id: str
    sku: str
    quantity: int = Field(gt=0)
    key: str


class RestockReturn(BaseModel):
    rma: str
    items: list[RestockItem]


class Direction(StrEnum):
    OUTBOUND = "outbound"
    RETURN = "return"


class RateShipment(BaseModel):
    """Ask the carrier for rates between a node and a customer, and pick one for the service level."""

    reference: str
    node_id: str
    customer: Address
    units: int = Field(gt=0)
    service_level: ServiceLevel = ServiceLevel.STANDARD
    direction: Direction = Direction.OUTBOUND
    carrier: str | None = Field(default=None, description="the carrier sourcing priced, preferred when offered")
    carrier_service: str | None = None
    weight_oz: float | None = Field(default=None, gt=0, description="parcel weight; default: a flat weight per unit")


class ShipmentRated(BaseModel):
    carrier_shipment_id: str
    rate_id: str
    carrier: str
    service: str
    cost: Money
    delivery_days: int | None = None


class BuyLabel(BaseModel):
    reference: str
    carrier_shipment_id: str
    rate_id: str


class VoidLabel(BaseModel):
    carrier_shipment_id: str


class LoadReturnContext(BaseModel):
    rma: str
    order_id: str
    lines: list[ReturnLine]


class ReturnContext(BaseModel):
    """What the return workflow needs to decide: the order, eligibility, where it goes back, the refund."""

    order: OrderRecord | None
    rejection: str | None = None
    return_node_id: str | None = None
    refund: Money | None = None
    label_expiry_days: int = 30
    unit_prices: dict[str, int] = Field(default_factory=dict)


def order_lines_to_shipment_lines(lines: list[OrderLineIn]) -> list[ShipmentLine]:
    return [ShipmentLine(line_no=i, sku=line.sku, quantity=line.quantity) for i, line in enumerate(lines, start=1)]
