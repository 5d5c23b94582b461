"""Searching the order read model: the filters, the keyset cursor and the page of summaries.

Pages run newest first by (created_at, order_id), and a cursor is the last row's pair, so a page never
repeats or skips an order however many share a creation time, and orders placed while a caller pages
appear on its first page, not in the middle. The cursor is opaque to callers: URL-safe base64 of
`{created_at ISO 8601}|{order_id}`.

A summary carries no personal data (no name, e-mail or address), also when the search was by e-mail:
the list is for finding orders and is served to channel keys as well as operators, and the caller
who searched by an e-mail already has it. The order itself (GET /v1/orders/{order_id}) is where an
operator reads the rest.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from models.money import Money
from models.order import HoldReason, OrderStatus
from models.shipment import TrackingException

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
# A cursor holds a timestamp (32 characters at most) and an order id (133 at most), base64 encoded.
MAX_CURSOR_CHARS = 240


def normalise_email(email: str) -> str:
    """The form an e-mail is stored and searched in: trimmed and lower-cased."""
    return email.strip().lower()


class OrderCursor(BaseModel):
    """Where a page ends: the last order's creation time and id."""

    model_config = ConfigDict(frozen=True)

    created_at: datetime
    order_id: str = Field(pattern=r"^[^\x00-\x1f\x7f]{1,133}$")

    def encode(self) -> str:
        stamp = self.created_at.astimezone(UTC).isoformat()
        return base64.urlsafe_b64encode(f"{stamp}|{self.order_id}".encode()).decode("ascii").rstrip("=")

    @classmethod
    def decode(cls, token: str) -> OrderCursor:
        """The cursor a previous page answered; ValueError for anything else."""
        if not token or len(token) > MAX_CURSOR_CHARS:
            raise ValueError("not a cursor this API answered")
        try:
            text = base64.b64decode(token + "=" * (-len(token) % 4), altchars=b"-_", validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise ValueError("not a cursor this API answered: not base64 of text") from None
        stamp, separator, order_id = text.partition("|")
        if not separator or not order_id:
            raise ValueError("not a cursor this API answered")
        try:
            created_at = datetime.fromisoformat(stamp)
            if created_at.tzinfo is None:
                raise ValueError("its timestamp has no time zone")
            return cls(created_at=created_at.astimezone(UTC), order_id=order_id)
        except (ValueError, OverflowError) as err:
            reason = err.errors()[0]["msg"] if isinstance(err, ValidationError) else str(err)
            raise ValueError(f"not a cursor this API answered: {reason}") from None


class OrderSearch(BaseModel):
    """Filters (all optional, all must hold) and a page: newest first, after `after` when given.

    `channels` is the set of channels to search (None: every channel; empty: none), so that a
    caller's scope and its `channel` filter are one condition. `created_from` is inclusive and
    `created_to` exclusive. `held` and `backordered` compare with the status `held` and the
    backorder flag (`hold_reason`: held for that reason);
    False asks for the orders that are not. `exception` and `tracking_exception` look
    at the shipments' open carrier exceptions (cleared when the shipment is delivered).
    """

    model_config = ConfigDict(frozen=True)

    status: OrderStatus | None = None
    channels: frozenset[str] | None = None
    node_id: str | None = None
    sku: str | None = None
    customer_email: str | None = Field(default=None, description="matched after normalise_email")
    created_from: datetime | None = None
    created_to: datetime | None = None
    held: bool | None = None
    hold_reason: HoldReason | None = Field(default=None, description="held for this reason")
    backordered: bool | None = None
    exception: bool | None = Field(default=None, description="a shipment has a carrier exception open (or none)")
    tracking_exception: TrackingException | None = Field(default=None, description="a shipment has this one open")
    limit: int = Field(default=DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
    after: OrderCursor | None = None

    @field_validator("created_from", "created_to")
    @classmethod
    def _in_utc(cls, value: datetime | None) -> datetime | None:
        """Naive times are UTC; an aware one must have a UTC equivalent (year 1 at +05:00 has none)."""
        if value is None:
            return None
        try:
            return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        except OverflowError:
            raise ValueError("the time is out of range once converted to UTC") from None

    @field_validator("customer_email")
    @classmethod
    def _normalised(cls, value: str | None) -> str | None:
        return None if value is None else normalise_email(value)

    @field_validator("created_to")
    @classmethod
    def _not_before_created_from(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        start = info.data.get("created_from")
        if value is not None and start is not None and value < start:
            raise ValueError("created_to is before created_from")
        return value


class OrderSummary(BaseModel):
    """One order in a list: what it is, where it stands, where it ships from; no personal data."""

    order_id: str
    channel: str
    channel_order_id: str
    status: OrderStatus
    currency: str
    total: Money = Field(description="unit price times quantity over the lines, as placed")
    created_at: datetime
    updated_at: datetime
    has_backorders: bool
    hold_reason: HoldReason | None = Field(default=None, description="why it is held, while it is")
    node_ids: list[str] = Field(description="the nodes of the order's shipments (in any state), by id")


class OrderPage(BaseModel):
    items: list[OrderSummary]
    next_cursor: str | None = Field(
        default=None, description="pass as `cursor` for the next page; null on the last page")
