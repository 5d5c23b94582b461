"""A DC's hand-off to its WMS: what a released shipment looks like to the warehouse, and the signed
webhooks that carry it (Standard Webhooks: `shipment.released`, `shipment.cancel_requested`).

The same `ReleasedShipment` is the webhook's `data` and an item of the pull API
(`GET /v1/nodes/{node_id}/shipments`), so a WMS reads one shape whichever way it is told.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from models.address import Address
from models.fulfilment import CancelAnswer
from models.shipment import ShipmentLine, ShipmentState

RELEASED_MESSAGE = "shipment.released"
CANCEL_REQUESTED_MESSAGE = "shipment.cancel_requested"


class ReleasedShipment(BaseModel):
    """A shipment as its WMS needs it: the packing list (lines), where it goes, the label to print."""

    model_config = ConfigDict(frozen=True)

    shipment_id: str
    order_id: str
    node_id: str
    state: ShipmentState
    lines: list[ShipmentLine] = Field(description="the packing list: SKU and units per order line")
    ship_to: Address = Field(description="the customer's address (personal data: the WMS needs it to ship)")
    carrier: str | None = None
    service: str | None = None
    tracking_number: str | None = None
    label_url: str | None = Field(default=None, description="the bought label, to print")
    label_format: str | None = Field(default=None, description="PDF, PNG or ZPL")
    cancel_requested: bool = Field(default=False, description=(
        "the order asked to cancel: answer with a `cancelled` event, or ship it (a shipped event wins)"))


class SendWebhook(BaseModel):
    """Post one signed Standard Webhooks message to a node. `message_id` is the `webhook-id`: the same
    on every retry, so the receiver dedupes on it."""

    url: str
    secret_ref: str = Field(description="the signing secret's name in settings")
    message_id: str
    type: str = Field(description="shipment.released or shipment.cancel_requested")
    data: ReleasedShipment


class WebhookDelivered(BaseModel):
    """What the node answered a webhook with (a 2xx: any other status raises)."""

    status: int
    answer: CancelAnswer = CancelAnswer.LATER


class NodeShipmentPage(BaseModel):
    """A page of a node's shipments; `next_cursor` (None on the last page) fetches the next one."""

    items: list[ReleasedShipment]
    next_cursor: str | None = None


class NodeShipmentAck(BaseModel):
    """The answer to a WMS's acknowledgement: the shipment is `accepted` (or already further on).
    `replay` is true when it was acknowledged, or moved on, before this call."""

    shipment_id: str
    order_id: str
    state: ShipmentState
    replay: bool = False
