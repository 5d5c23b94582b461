"""Request and response shapes of the HTTP gateway and the channel SDK that the domain models lack."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from models.allocation import ChannelAvailability
from models.catalog import SkuAttributes
from models.costs import CostModel, PromiseOption, ServiceLevel, ShadowPriceSet
from models.limits import Units
from models.network import Node, NodeId
from models.returns import ReturnEventType, ReturnStatus
from models.rules import RuleSet
from models.shipment import ShipmentEventData, ShipmentEventType, ShipmentLine, ShipmentState
from models.text import PlainText

MAX_CATALOG_BATCH = 5000
MAX_CART_ITEMS = 100


class ReturnAccepted(BaseModel):
    """The answer to starting a return: `created` is false when the RMA was seen before."""

    rma: str
    workflow_id: str
    created: bool = Field(description="false when the RMA was seen before")


class NodeUpsert(Node):
    """A node as `PUT /v1/nodes/{node_id}` takes it: the path names the node, so `node_id` is optional
    here and, when given, must equal the path's."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    node_id: NodeId | None = None  # type: ignore[assignment]

    def for_id(self, node_id: str) -> Node:
        """The Node this body describes under `node_id` (raises pydantic's ValidationError if invalid)."""
        return Node.model_validate({**self.model_dump(), "node_id": node_id})


class InventoryCount(BaseModel):
    """An absolute on-hand count from a WMS, 3PL or POS (not a delta)."""

    model_config = ConfigDict(extra="forbid")

    on_hand: Units = Field(description="units physically at the node")
    safety_stock: Units | None = Field(default=None, description="units held back from ATP; unchanged if omitted")
    source: PlainText = Field(default="api", min_length=1, max_length=100, description="who counted")
    reason: PlainText = Field(default="count", min_length=1, max_length=200)


class ShipmentEventIn(ShipmentEventData):
    """A node, partner or carrier event for the shipment named in the path, with the data its type
    needs (see ShipmentEventData)."""

    model_config = ConfigDict(extra="forbid")

    type: ShipmentEventType
    event_id: PlainText | None = Field(default=None, max_length=200, description="the sender's dedupe key")
    occurred_at: datetime | None = None


class ShipmentEventAccepted(BaseModel):
    """What a shipment event did: the move it made. A redelivery (an `event_id` the shipment applied
    before) is a `replay`: nothing moved, from and to are the current state, `signalled` is false. So
    is a node's accepted/picked/packed/shipped that the carrier's scan overtook (`carrier_first`)."""

    shipment_id: str
    order_id: str
    type: ShipmentEventType
    from_state: ShipmentState
    to_state: ShipmentState
    signalled: bool = Field(description="the event moved the shipment (false for a replay)")
    replay: bool = Field(default=False, description="the event id was applied before; nothing moved")
    carrier_first: bool = Field(default=False, description=(
        "the carrier scanned the shipment before this event: it counts as done, nothing moved (with `replay`)"))


class ReturnEventIn(BaseModel):
    """A carrier or receiving-node event for the return named in the path."""

    model_config = ConfigDict(extra="forbid")

    type: ReturnEventType
    node_id: NodeId | None = Field(default=None, description="the node that received it, if not the planned one")
    event_id: PlainText | None = Field(default=None, max_length=200, description="the sender's dedupe key")


class ReturnEventAccepted(BaseModel):
    """What a return event did: the move it made, or a `replay` of an event id applied before."""

    rma: str
    type: ReturnEventType
    status: ReturnStatus = Field(description="the return's status when the event arrived")
    to_status: ReturnStatus = Field(description="its status after the event (the same for a replay)")
    signalled: bool = Field(description="the event moved the return (false for a replay)")
    replay: bool = Field(default=False, description="the event id was applied before; nothing moved")


class Health(BaseModel):
    status: str = "ok"
    database: bool = Field(description="the app DB answered a read")
    temporal: bool = Field(description="the Temporal frontend answered a health check")


class CostModelDocument(BaseModel):
    """The cost model in force and its version (1 for the first one set, then one more per change)."""

    version: int = Field(ge=1)
    cost_model: CostModel


class ShadowPriceDocument(BaseModel):
    """The look-ahead's last refresh (version 1 for the first, then one more per refresh), its prices
    filtered by the query, and whether orders plan with them now."""

    version: int = Field(ge=1)
    in_use: bool = Field(description="look-ahead is on in the cost model and the prices are not too old")
    refresh: ShadowPriceSet


class RuleSetDocument(BaseModel):
    """The order rules in force and their version (1 for the first set, then one more per change)."""

    version: int = Field(ge=1)
    rules: RuleSet


class SkuBatch(BaseModel):
    """SKU attributes to insert or replace, all or none; a SKU may appear once per batch."""

    model_config = ConfigDict(extra="forbid")

    items: list[SkuAttributes] = Field(
        min_length=1, max_length=MAX_CATALOG_BATCH, description=f"1 to {MAX_CATALOG_BATCH} SKUs"
    )


class SkuBatchResult(BaseModel):
    written: int = Field(description="SKUs inserted or replaced")


class PromiseAnswer(BaseModel):
    """The earliest delivery date per service level for a cart to a destination, with what shipping costs us.

    `options` holds one entry per level the network can cover the whole cart with; `unavailable` names
    the levels the cost model has (or the one asked for) that it cannot.
    """

    postal_code: str
    city: str
    region: str
    quoted_at: datetime = Field(description="the time the dates were computed for (cut-offs depend on it)")
    channel: str | None = Field(default=None, description="the channel whose ATP was promised from")
    currency: str
    cost_model_version: int
    items: list[ShipmentLine] = Field(description="the cart as read, one line per item")
    options: list[PromiseOption]
    unavailable: list[ServiceLevel] = Field(default_factory=list)


class NodeDeliveryAvailability(BaseModel):
    """A node that can ship the quantity alone and have it arrive by the date asked."""

    node_id: str
    delivery_date: date
    service: str = Field(description="its cheapest carrier service that arrives in time")
    atp: int = Field(description="the node's ATP of the SKU (as the channel sees it, given a channel)")


class DeliveryCheck(BaseModel):
    """Who can deliver `quantity` of the SKU to `postal_code` by `deliver_by` (at `level` or faster)."""

    postal_code: str
    deliver_by: date
    level: ServiceLevel | None = None
    quantity: int
    quoted_at: datetime
    cost_model_version: int
    total_atp: int = Field(description="the ATP of the nodes listed")
    nodes: list[NodeDeliveryAvailability] = Field(description="earliest delivery first, then by node id")


class DeliveryAvailability(ChannelAvailability):
    """ATP as `GET /v1/availability` answers it; `delivery` is there only when `postal_code` and
    `deliver_by` were asked."""

    delivery: DeliveryCheck | None = None
