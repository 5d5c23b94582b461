"""Orders as channels place them, and as operators see them."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints, field_validator, model_validator

from models.address import Address
from models.costs import ServiceLevel
from models.inventory import Sku
from models.limits import MAX_ORDER_TOTAL, MinorUnits
from models.money import Currency, Money
from models.notify import DEFAULT_LOCALE, Locale, PhoneNumber
from models.plan import SourcingDecision
from models.shipment import ShipmentView
from models.text import PlainText

ChannelName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_]{0,31}$")]
AttributeName = Annotated[PlainText, StringConstraints(min_length=1, max_length=64)]
AttributeValue = Annotated[PlainText, StringConstraints(max_length=500)]
ChannelOrderId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$")]


class OrderStatus(StrEnum):
    RECEIVED = "received"
    HELD = "held"
    BACKORDERED = "backordered"
    FULFILLING = "fulfilling"
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    FAILED = "failed"

    @property
    def is_final(self) -> bool:
        return self in (OrderStatus.COMPLETED, OrderStatus.CANCELLED, OrderStatus.FAILED)


class HoldReason(StrEnum):
    """Why an order waits for an operator (its status is `held` while it does)."""

    REVIEW = "review"  # an intake rule held it (fraud, high value)
    PAYMENT = "payment"  # the payment could not be authorised
    ADDRESS = "address"  # the carrier could not verify the ship-to address
    CARRIER = "carrier"  # no carrier sold a label after the retries and the fallback aggregator


class Customer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr = Field(max_length=254)
    name: PlainText = Field(min_length=1, max_length=200)
    # Added later, with defaults: payloads and recorded histories without them still parse.
    phone: PhoneNumber | None = Field(default=None, description="E.164, e.g. +14155550123; needed for `sms`")
    sms: bool = Field(default=False, description="the customer agreed to order updates by SMS")
    locale: Locale = Field(default=DEFAULT_LOCALE, description="the language of their messages, e.g. 'en', 'fr'")

    @model_validator(mode="after")
    def _sms_needs_a_phone(self) -> Customer:
        if self.sms and self.phone is None:
            raise ValueError("phone is required when sms is true")
        return self


class OrderLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: Sku
    quantity: int = Field(gt=0, le=10_000)
    unit_price: MinorUnits = Field(description="minor units of the order's currency")


class Pickup(BaseModel):
    """The customer collects the order at a store (BOPIS), or at its curb (`curbside`: they say when
    they have arrived and where they parked)."""

    model_config = ConfigDict(extra="forbid")

    node_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")] = Field(
        description="the store, which must offer `pickup` (and `curbside` for a curbside order)")
    curbside: bool = False


class PlaceOrder(BaseModel):
    """A channel's order, as it arrives by SDK or HTTP. Its total (unit price times quantity, summed
    over the lines) is at most MAX_ORDER_TOTAL minor units."""

    model_config = ConfigDict(extra="forbid")

    channel: ChannelName
    channel_order_id: ChannelOrderId
    currency: Currency
    customer: Customer
    ship_to: Address | None = Field(default=None, description=(
        "where it ships; required unless the order is for `pickup` (then it is where lines go if a rule lets "
        "a pickup the store hands back ship to the customer instead)"))
    pickup: Pickup | None = Field(default=None, description="collected at a store instead of shipped")
    lines: list[OrderLineIn] = Field(min_length=1, max_length=200)
    service_level: ServiceLevel = ServiceLevel.STANDARD
    shipping_method: PlainText | None = Field(
        default=None, max_length=100, description="the channel's own name for it, e.g. 'Express'; rules may map it"
    )
    promised_delivery: date | None = Field(
        default=None, description="the delivery date the customer was shown (GET /v1/promise); sourcing keeps it"
    )
    bill_to: Address | None = None
    attributes: dict[AttributeName, AttributeValue] = Field(
        default_factory=dict, max_length=50, description="channel flags rules may read, e.g. fraud_risk=high"
    )

    @model_validator(mode="after")
    def _ship_to_unless_pickup(self) -> PlaceOrder:
        if self.ship_to is None and self.pickup is None:
            raise ValueError("ship_to: required unless the order is for pickup")
        return self

    @model_validator(mode="after")
    def _distinct_skus(self) -> PlaceOrder:
        skus = [line.sku for line in self.lines]
        if len(set(skus)) != len(skus):
            raise ValueError("each SKU may appear on one line only; add the quantities")
        return self

    @field_validator("lines")
    @classmethod
    def _total_within_limit(cls, lines: list[OrderLineIn]) -> list[OrderLineIn]:
        total = sum(line.unit_price * line.quantity for line in lines)
        if total > MAX_ORDER_TOTAL:
            raise ValueError(
                f"the order total (unit_price x quantity summed over the lines) is {total}, "
                f"more than {MAX_ORDER_TOTAL} minor units"
            )
        return lines

    @property
    def order_id(self) -> str:
        return order_id_for(self.channel, self.channel_order_id)

    @property
    def total(self) -> Money:
        return Money(amount=sum(line.unit_price * line.quantity for line in self.lines), currency=self.currency)


def order_id_for(channel: str, channel_order_id: str) -> str:
    return f"{channel}-{channel_order_id}"


def channel_of_order(order_id: str) -> str | None:
    """The channel an order id was made for by `order_id_for` (a channel name has no '-', so it is
    everything before the first one); None when the id has no channel part."""
    channel, dash, _ = order_id.partition("-")
    return channel if dash and channel else None


class LineStatus(StrEnum):
    OPEN = "open"
    ALLOCATED = "allocated"
    BACKORDERED = "backordered"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


class OrderLineView(BaseModel):
    line_no: int
    sku: str
    quantity: int
    unit_price: int
    status: LineStatus
    quantity_cancelled: int = 0
    cancel_reason: str | None = None
    quantity_backordered: int = Field(default=0, description="units waiting for stock (backorder policy)")
    quantity_filled_from_backorder: int = Field(
        default=0, description="units that waited for stock and have since been planned to ship")


class OrderView(BaseModel):
    order_id: str
    workflow_id: str
    channel: str
    channel_order_id: str
    status: OrderStatus
    currency: str
    total: Money
    lines: list[OrderLineView]
    shipments: list[ShipmentView]
    created_at: datetime | None = None
    failure: str | None = None
    events: list[str] = Field(default_factory=list, description="what happened, in order")
    holds: list[str] = Field(default_factory=list, description="why the order waits for an operator, if it does")
    hold_reason: HoldReason | None = Field(default=None, description="while the status is held: why, as a code")
    rules_fired: list[str] = Field(default_factory=list)
    decision: SourcingDecision | None = Field(default=None, description="why it ships from where it ships")


class CancelOrder(BaseModel):
    """Cancel some lines (by line number) or, with no lines given, everything not yet shipped."""

    model_config = ConfigDict(extra="forbid")

    line_nos: list[Annotated[int, Field(ge=1, le=10_000)]] | None = Field(default=None, max_length=200)
    reason: PlainText = Field(default="customer request", max_length=500)


class ReleaseHold(BaseModel):
    """An operator lets a held order go on to sourcing."""

    model_config = ConfigDict(extra="forbid")

    released_by: PlainText = Field(min_length=1, max_length=200)
    reason: PlainText = Field(default="reviewed", max_length=500)


class CancelResult(BaseModel):
    """What a cancel did: lines and shipments cancelled, and shipments whose node has been asked and
    answers later (their lines are cancelled when it agrees, or ship if it had shipped)."""

    cancelled_line_nos: list[int]
    cancelled_shipment_ids: list[str]
    requested_shipment_ids: list[str] = Field(default_factory=list)
    status: OrderStatus


class OrderAccepted(BaseModel):
    order_id: str
    workflow_id: str
    created: bool = Field(description="false when the order id was seen before")
