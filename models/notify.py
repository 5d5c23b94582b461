"""Messages to customers."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field


class NotificationKind(StrEnum):
    ORDER_CONFIRMED = "order_confirmed"
    LINES_CANCELLED = "lines_cancelled"
    BACKORDERED = "backordered"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    ORDER_CANCELLED = "order_cancelled"
    ORDER_FAILED = "order_failed"
    RETURN_LABEL = "return_label"
    RETURN_REJECTED = "return_rejected"
    REFUND_ISSUED = "refund_issued"
    DELIVERY_EXCEPTION = "delivery_exception"
    CANCEL_REFUSED = "cancel_refused"
    READY_FOR_PICKUP = "ready_for_pickup"
    PICKUP_EXPIRED = "pickup_expired"
    CURBSIDE_ARRIVAL = "curbside_arrival"
    PICKUP_LOCKED = "pickup_locked"
    PICKUP_SHIPPED_INSTEAD = "pickup_shipped_instead"


class Notification(BaseModel):
    """One message; `facts` fill the template (tracking number, lines, amounts)."""

    kind: NotificationKind
    to_email: str
    to_name: str
    reference: str = Field(description="order id or RMA the message is about")
    facts: dict[str, str] = Field(default_factory=dict)
