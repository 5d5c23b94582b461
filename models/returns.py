"""Returns (RMAs): the customer sends delivered goods back."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from models.inventory import Sku
from models.money import Money
from models.shipment import Label
from models.text import PlainText

Rma = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]


class ReturnStatus(StrEnum):
    REQUESTED = "requested"
    AWAITING_RECEIPT = "awaiting_receipt"
    RECEIVED = "received"
    COMPLETED = "completed"
    REJECTED = "rejected"
    EXPIRED = "expired"

    @property
    def is_final(self) -> bool:
        return self in (ReturnStatus.COMPLETED, ReturnStatus.REJECTED, ReturnStatus.EXPIRED)


class ReturnPolicy(BaseModel):
    """How long after delivery goods may come back, and how long a return label stays valid."""

    window_days: int = 30
    label_expiry_days: int = 30


class ReturnLine(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: Sku
    quantity: int = Field(gt=0, le=10_000, description="at most an order line's quantity")


class StartReturn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rma: Rma
    order_id: PlainText = Field(min_length=1, max_length=200)
    lines: list[ReturnLine] = Field(min_length=1, max_length=200)
    reason: PlainText = Field(default="unspecified", max_length=500)

    @model_validator(mode="after")
    def _distinct_skus(self) -> StartReturn:
        skus = [line.sku for line in self.lines]
        if len(set(skus)) != len(skus):
            raise ValueError("each SKU may appear on one return line only")
        return self


class ReturnEventType(StrEnum):
    RECEIVED = "received"


class ReturnEvent(BaseModel):
    rma: str
    type: ReturnEventType
    node_id: str | None = Field(default=None, description="the node that received it, if not the planned one")
    event_id: str | None = None


class ReturnEventApplied(BaseModel):
    """The answer to a return event: the status it moved the return from and to, or `replay` when
    the event id was seen before (nothing moved)."""

    rma: str
    type: ReturnEventType
    from_status: ReturnStatus
    to_status: ReturnStatus
    replay: bool = False


class ReturnView(BaseModel):
    rma: str
    order_id: str
    workflow_id: str
    status: ReturnStatus
    lines: list[ReturnLine]
    reason: str
    return_node_id: str | None = None
    label: Label | None = None
    refund: Money | None = None
    rejection: str | None = None
    received_at: datetime | None = None
    received_event_id: str | None = Field(default=None, description="the event id of the receipt, if it had one")


def receipt_refusal(rma: str, status: ReturnStatus) -> str:
    """Why a return in `status` cannot take `received`, naming the return and its status."""
    if status is ReturnStatus.REQUESTED:
        why = "its return label is not issued yet, so it cannot be received; retry shortly"
    elif status in (ReturnStatus.RECEIVED, ReturnStatus.COMPLETED):
        why = "it was already received"
    else:
        why = "it takes no more events"
    return f"return {rma!r} is {status.value}; {why}"
