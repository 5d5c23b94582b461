"""The 3PL's messages: the inventory pull's request and result (ThreePLInventorySyncWorkflow and its
activity), and the order a 3PL fulfilment places and may cancel (ThreePLFulfilmentWorkflow)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from models.address import Address
from models.costs import ServiceLevel
from models.network import NodeId, ProviderSettings
from models.order import Customer
from models.shipment import ShipmentLine

SHIPBOB_SOURCE = "shipbob"
# ShipBob's largest page (integrations.threepl.shipbob.MAX_PAGE_SIZE enforces it on the wire);
# models import nothing of ours outside models, so the bound is repeated here.
MAX_PULL_PAGE_SIZE = 250


class PullThreePLInventory(BaseModel):
    """Pull every level from the 3PL and count it at `node_id` (the 3PL's node in our network)."""

    model_config = ConfigDict(frozen=True)

    node_id: NodeId
    source: str = Field(default=SHIPBOB_SOURCE, min_length=1, max_length=100)
    page_size: int = Field(default=100, ge=1, le=MAX_PULL_PAGE_SIZE)


class PullResult(BaseModel):
    """What one pull did. `items` = `applied` + `rejected_stale` + `skipped`."""

    items: int = Field(ge=0, description="levels the 3PL returned")
    pages: int = Field(ge=0)
    applied: int = Field(ge=0, description="counts written to the ledger")
    rejected_stale: int = Field(ge=0, description="counts refused: the position moved after the pull began")
    skipped: int = Field(default=0, ge=0, description="levels with no usable SKU or quantity")
    as_of: datetime


class PlaceThreePLOrder(BaseModel):
    """Create the 3PL's order for one shipment; `shipment_id` is its reference there (idempotent)."""

    model_config = ConfigDict(frozen=True)

    shipment_id: str = Field(min_length=1)
    order_id: str = Field(min_length=1)
    node_id: NodeId
    lines: list[ShipmentLine] = Field(min_length=1)
    ship_to: Address
    customer: Customer
    service_level: ServiceLevel
    provider: ProviderSettings | None = Field(default=None, description="the node's; None: ShipBob from settings")


class ThreePLOrderPlaced(BaseModel):
    """The 3PL's order for the shipment: its id there, and whether this call created it (False: found)."""

    model_config = ConfigDict(frozen=True)

    provider_order_id: int
    created: bool
    status: str


class CancelThreePLOrder(BaseModel):
    model_config = ConfigDict(frozen=True)

    shipment_id: str = Field(min_length=1)
    provider_order_id: int
    provider: ProviderSettings | None = None


class ThreePLCancelAnswer(BaseModel):
    """The 3PL's answer: cancelled, or refused with its reason (it has shipped, or it is being packed)."""

    model_config = ConfigDict(frozen=True)

    cancelled: bool
    reason: str | None = None


class ShipBobWebhookTracking(BaseModel):
    model_config = ConfigDict(extra="ignore")

    carrier: str | None = Field(default=None, max_length=50)
    carrier_service: str | None = Field(default=None, max_length=100)
    tracking_id: str | None = Field(default=None, max_length=100)
    tracking_url: str | None = Field(default=None, max_length=2000)


class ShipBobWebhook(BaseModel):
    """The body of a ShipBob order webhook (its topic comes in the `x-webhook-topic` header): our
    shipment id is the order's `reference_id`."""

    model_config = ConfigDict(extra="ignore")

    reference_id: str = Field(min_length=1, max_length=300)
    order_id: int | None = None
    shipment_id: int | None = None
    status: str | None = Field(default=None, max_length=50)
    event_time: datetime | None = None
    tracking: ShipBobWebhookTracking | None = None


class WebhookReceipt(BaseModel):
    """The gateway's answer to a verified webhook: what it moved, or why it moved nothing (a 2xx either
    way, so that the sender does not retry what can never apply)."""

    webhook_id: str
    topic: str
    shipment_id: str | None = None
    applied: bool = Field(description="a shipment event was applied")
    replay: bool = Field(default=False, description="this delivery was applied before: nothing moved twice")
    note: str | None = None
