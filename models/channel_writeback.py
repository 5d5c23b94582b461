"""Channel write-back: what Omniroute tells a Shopify channel about its orders, and the driver's messages.

A Shopify channel's orders carry Shopify's order id as `channel_order_id`. When one of their shipments
leaves the building (shipped, with carrier and tracking) a fulfillment is created in Shopify for its
lines; when the whole order is cancelled here, the order is cancelled there. One long-running
ChannelWritebackWorkflow per channel (id `channel-writeback-{channel}`) polls the read model for what
is still to write and asks an activity to write each, once (the `channel_writebacks` ledger).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt, PositiveInt

from models.order import ChannelName

CHANNEL_WRITEBACK_WORKFLOW = "ChannelWritebackWorkflow"
WRITEBACK_NOW_SIGNAL = "writeback_now"
WRITEBACK_STATUS_QUERY = "status"


def channel_writeback_workflow_id(channel: str) -> str:
    return f"channel-writeback-{channel}"


class ChannelWritebackConfig(BaseModel):
    """How one Shopify channel's fulfilments and cancels are written back.

    The shop is `shop_url` (the deployment's OMNIROUTE_SHOPIFY_BASE_URL, or the sandbox, when unset) and
    its token the partner secret named `token_ref` (OMNIROUTE_SHOPIFY_API_KEY when unset): the token
    never enters a workflow's payload. The read model is polled every `poll_seconds` for at most
    `batch_size` things to write; the run continues as new after `max_loops` polls.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    channel: ChannelName
    shop_url: str | None = Field(default=None, pattern=r"^https?://\S+$", max_length=500)
    token_ref: str | None = Field(default=None, min_length=1, max_length=100)
    poll_seconds: float = Field(default=5.0, gt=0, le=86_400)
    batch_size: int = Field(default=50, ge=1, le=500)
    notify_customer: bool = Field(default=False, description="Shopify's own shipping e-mail (Omniroute sends one)")
    max_loops: int = Field(default=1000, ge=1)


class WritebackKind(StrEnum):
    FULFILLMENT = "fulfillment"  # a shipment left: fulfillmentCreate with its tracking
    CANCEL = "cancel"  # the whole order was cancelled: orderCancel


class WritebackOutcome(StrEnum):
    WRITTEN = "written"  # Omniroute wrote it now
    FOUND = "found"  # Shopify already had it (read back first: an earlier answer was lost, or Shopify did it)
    REFUSED = "refused"  # Shopify refused it, or it cannot be expressed there: recorded, not retried


class WritebackTask(BaseModel):
    """One thing to write: a shipment's fulfillment (`shipment_id`, its SKUs and units, carrier and
    tracking) or an order's cancel."""

    model_config = ConfigDict(frozen=True)

    kind: WritebackKind
    channel: str
    order_id: str
    channel_order_id: str
    shipment_id: str | None = None
    carrier: str | None = None
    tracking_number: str | None = None
    units: dict[str, PositiveInt] = Field(default_factory=dict, description="SKU → units shipped")

    @property
    def subject(self) -> str:
        """What the ledger remembers it by: the shipment for a fulfillment, the order for a cancel."""
        return self.shipment_id if self.kind == WritebackKind.FULFILLMENT and self.shipment_id else self.order_id


class PendingWritebacks(BaseModel):
    channel: str
    limit: PositiveInt


class WritebackDone(BaseModel):
    """What became of a task, as the ledger keeps it."""

    kind: WritebackKind
    subject: str
    outcome: WritebackOutcome
    external_id: str | None = Field(default=None, description="Shopify's fulfillment or cancel job id")
    detail: str = ""


class WritebackRecord(WritebackDone):
    channel: str
    order_id: str
    written_at: datetime


class ChannelWritebackRun(BaseModel):
    """The workflow's input and what it carries across continue-as-new."""

    config: ChannelWritebackConfig
    written: NonNegativeInt = 0
    found: NonNegativeInt = 0
    refused: NonNegativeInt = 0
    failed_attempts: NonNegativeInt = 0
    last_written_at: datetime | None = None
    run_number: PositiveInt = 1


class ChannelWritebackStatus(BaseModel):
    """What the `status` query answers."""

    channel: str
    written: NonNegativeInt
    found: NonNegativeInt
    refused: NonNegativeInt
    failed_attempts: NonNegativeInt = Field(description="writes that ran out of retries; they are tried again")
    last_written_at: datetime | None
    run_number: PositiveInt
    polls_this_run: NonNegativeInt
