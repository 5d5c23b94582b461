"""ShipBob's order API as it is on the wire (dated versions, PROVIDERS.md §3a): the order we create,
the order ShipBob answers with, and the answer to a cancel. Unknown fields are ignored on the way in.

`POST /{version}/order` takes `reference_id` (unique per account: our shipment id, so a retried
create meets a 422 "Duplicate reference ID" and finds the order it already made), `shipping_method`,
`recipient{name, address{address1, address2, company_name, city, state, country, zip_code}, email,
phone_number}` and `products[{reference_id, name, quantity, external_line_id}]` (by SKU). It answers
201 with the Order. `POST /{version}/order/{id}:cancel` answers `{order, canceled_shipment_results:
[{shipment_id, action, is_success, reason}]}`: a shipment that has shipped is not cancelled.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

# Order statuses (Order.status) and shipment statuses (Shipment.status) as ShipBob spells them.
ORDER_PROCESSING = "Processing"
ORDER_FULFILLED = "Fulfilled"
ORDER_CANCELLED = "Cancelled"
SHIPMENT_PROCESSING = "Processing"
SHIPMENT_COMPLETED = "Completed"
SHIPMENT_CANCELLED = "Cancelled"


class ShipBobAddress(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    address1: str
    address2: str | None = None
    company_name: str | None = None
    city: str
    state: str | None = None
    country: str
    zip_code: str | None = None


class ShipBobRecipient(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    name: str
    address: ShipBobAddress
    email: str | None = None
    phone_number: str | None = None


class ShipBobProduct(BaseModel):
    """A product line by our SKU (`reference_id`), the way an order names what to ship."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    reference_id: str | None = None
    name: str | None = None
    quantity: int = Field(gt=0)
    external_line_id: str | None = None


class NewShipBobOrder(BaseModel):
    """The body of `POST /{version}/order`."""

    model_config = ConfigDict(frozen=True)

    reference_id: str = Field(min_length=1, max_length=300)
    order_number: str | None = None
    type: str = "DTC"
    shipping_method: str = Field(min_length=1)
    recipient: ShipBobRecipient
    products: list[ShipBobProduct] = Field(min_length=1)
    tags: list[dict[str, str]] = Field(default_factory=list)


class ShipBobTracking(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    carrier: str | None = None
    carrier_service: str | None = None
    tracking_number: str | None = None
    tracking_url: str | None = None
    shipping_date: str | None = None


class ShipBobShipment(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    id: int
    order_id: int | None = None
    reference_id: str | None = None
    status: str
    tracking: ShipBobTracking | None = None


class ShipBobOrder(BaseModel):
    """An order as ShipBob shows it."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: int
    reference_id: str
    order_number: str | None = None
    status: str
    shipping_method: str | None = None
    shipments: list[ShipBobShipment] = Field(default_factory=list)


class CanceledShipmentResult(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    shipment_id: int
    action: str | None = None
    is_success: bool
    reason: str | None = None


class ShipBobCancelAnswer(BaseModel):
    """ShipBob's answer to a cancel: the order as it is now and what happened to each shipment."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    order: ShipBobOrder
    canceled_shipment_results: list[CanceledShipmentResult] = Field(default_factory=list)

    @property
    def cancelled(self) -> bool:
        """Every shipment of the order is cancelled (none had shipped)."""
        return self.order.status == ORDER_CANCELLED or (
            bool(self.canceled_shipment_results) and all(r.is_success for r in self.canceled_shipment_results))

    @property
    def refusal(self) -> str | None:
        reasons = [r.reason or "not cancelled" for r in self.canceled_shipment_results if not r.is_success]
        return "; ".join(reasons) or None
