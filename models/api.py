"""Request and response shapes of the HTTP gateway and the channel SDK that the domain models lack."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from models.network import Node, NodeId
from models.returns import ReturnEventType, ReturnStatus
from models.shipment import ShipmentEventType, ShipmentState


class ReturnAccepted(BaseModel):
    """The answer to starting a return: `created` is false when the RMA was seen before."""

    rma: str
    workflow_id: str
    created: bool = Field(description="false when the RMA was seen before")


class NodeUpsert(Node):
    """A node as `PUT /v1/nodes/{node_id}` takes it: the path names the node, so `node_id` is optional
    here and, when given, must equal the path's."""

    node_id: NodeId | None = None  # type: ignore[assignment]

    def for_id(self, node_id: str) -> Node:
        """The Node this body describes under `node_id` (raises pydantic's ValidationError if invalid)."""
        return Node.model_validate({**self.model_dump(), "node_id": node_id})


class InventoryCount(BaseModel):
    """An absolute on-hand count from a WMS, 3PL or POS (not a delta)."""

    on_hand: int = Field(ge=0, description="units physically at the node")
    safety_stock: int | None = Field(default=None, ge=0, description="units held back from ATP; unchanged if omitted")
    source: str = Field(default="api", min_length=1, max_length=100, description="who counted")
    reason: str = Field(default="count", min_length=1, max_length=200)


class ShipmentEventIn(BaseModel):
    """A warehouse or carrier event for the shipment named in the path."""

    type: ShipmentEventType
    event_id: str | None = Field(default=None, max_length=200, description="the sender's dedupe key")
    occurred_at: datetime | None = None


class ShipmentEventAccepted(BaseModel):
    """What the gateway did with a shipment event. `signalled` is false for a redelivery (an event with
    an `event_id` whose state the shipment is already in): nothing was sent to the order."""

    shipment_id: str
    order_id: str
    type: ShipmentEventType
    from_state: ShipmentState
    to_state: ShipmentState
    signalled: bool


class ReturnEventIn(BaseModel):
    """A carrier or receiving-node event for the return named in the path."""

    type: ReturnEventType
    node_id: str | None = Field(default=None, description="the node that received it, if not the planned one")
    event_id: str | None = Field(default=None, max_length=200, description="the sender's dedupe key")


class ReturnEventAccepted(BaseModel):
    rma: str
    type: ReturnEventType
    status: ReturnStatus = Field(description="the return's status when the event arrived")
    signalled: bool


class Health(BaseModel):
    status: str = "ok"
    database: bool = Field(description="the app DB answered a read")
    temporal: bool = Field(description="the Temporal frontend answered a health check")
