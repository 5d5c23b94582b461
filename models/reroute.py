"""Rerouting a shipment that is not yet released: what an operator asks (over HTTP, the SDK or the
CLI), what the order answers, and the re-plan the order asks of the inventory activity."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from models.address import Address
from models.costs import ServiceLevel
from models.network import NodeId
from models.plan import PlannedShipment, SourcingDecision
from models.rules import RuleOutcome
from models.shipment import ShipmentLine, ShipmentView
from models.text import PlainText

DEFAULT_REROUTE_REASON = "operator reroute"
# The type of the ApplicationError an order answers a reroute it cannot take with (the gateway's 409).
REROUTE_REFUSED = "RerouteRefused"


class RerouteIn(BaseModel):
    """The body of `POST /v1/orders/{order_id}/shipments/{shipment_id}/reroute`."""

    model_config = ConfigDict(extra="forbid")

    node_id: NodeId = Field(description="the node the shipment should ship from instead")
    reason: PlainText = Field(default=DEFAULT_REROUTE_REASON, min_length=1, max_length=500)


class RerouteShipment(BaseModel):
    """The order's `reroute_shipment` update: move one shipment to `node_id`, on `actor`'s word."""

    model_config = ConfigDict(extra="forbid")

    shipment_id: str = Field(min_length=1, max_length=200)
    node_id: NodeId
    actor: PlainText = Field(min_length=1, max_length=200, description="who asked: an API key id, or cli:<user>")
    reason: PlainText = Field(default=DEFAULT_REROUTE_REASON, min_length=1, max_length=500)


class ShipmentRerouted(BaseModel):
    """The order's answer: the shipment as it now stands, and what the move changed."""

    order_id: str
    shipment: ShipmentView
    from_node_id: str
    to_node_id: str
    currency: str
    cost_before_cents: int | None = Field(default=None, description="the shipment's priced cost at the old node")
    cost_after_cents: int | None = Field(default=None, description="its priced cost at the new node")
    delivery_before: date | None = None
    delivery_after: date | None = None
    explanation: str = Field(description="the line appended to the order's decision and events")


class ReplanShipment(BaseModel):
    """Re-plan one waiting shipment's lines from `node_id` and move its reservations there: the old keys
    released and the new ones reserved in one transaction, or nothing changed."""

    order_id: str
    shipment_id: str
    from_node_id: str
    node_id: str
    lines: list[ShipmentLine]
    release_keys: list[str]
    reroute_no: int = Field(ge=1, description="numbers the new reservation keys: a retry makes the same ones")
    ship_to: Address
    currency: str
    service_level: ServiceLevel | None = None
    deliver_by: date | None = None
    rules: RuleOutcome | None = None
    decision: SourcingDecision | None = Field(default=None, description="the order's decision, to amend")
    delivery_before: date | None = None
    actor: str
    reason: str


class ShipmentReplanned(BaseModel):
    """`ok`: the reservations moved and `planned` is the shipment from its new node; else `reason` says
    why nothing changed."""

    ok: bool
    reason: str = ""
    planned: PlannedShipment | None = None
    reservation_keys: dict[str, str] = Field(default_factory=dict, description="sku -> its new reservation key")
    decision: SourcingDecision | None = Field(default=None, description="the order's decision, amended")
    cost_before_cents: int | None = None
    cost_after_cents: int | None = None
    delivery_after: date | None = None
    explanation: str = ""
