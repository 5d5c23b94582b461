"""Shopify's order resource (the body of its `orders/*` webhooks and of the REST order) and the one pure
function that turns it into our PlaceOrder.

Only the fields Omniroute reads are modelled; the rest of Shopify's order is ignored. The mapping:

| Shopify | PlaceOrder |
|---|---|
| the channel the webhook was sent for | `channel` |
| `id` (as text) | `channel_order_id`: the same order by webhook and by API is one order |
| `currency` (the shop's currency, in which `price` is given) | `currency` |
| `email`, else `contact_email`, else `customer.email` | `customer.email` |
| `customer` first and last name, else the shipping, else the billing address's name | `customer.name` |
| `shipping_address` (`address1/2`, `city`, `province_code`, `zip`, `country_code`, `phone`, names) | `ship_to` |
| `line_items[]`: `sku`, `current_quantity` (else `quantity`), `price` | `lines[]`, in minor units |
| `shipping_lines[0].title` | `shipping_method` |
| `name` ("#1001") | `attributes["shopify_order_name"]` |

Prices are decimal strings converted exactly (never through floats) to minor units by the currency's
exponent; a price with more decimals than its currency has is refused. Line items of one SKU become one
line (PlaceOrder takes a SKU once) when they share a price. Lines whose current quantity is 0 (removed
by an order edit) are left out. PlaceOrder has no fields for shipping charges, taxes or discounts, so
`shipping_lines[].price`, `tax_lines`, `total_tax` and discounts are not carried: the order's total is
its lines' prices times quantities.

A payload that cannot be mapped raises ShopifyOrderError naming the Shopify field (`line_items.2.sku`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from models.address import Address
from models.currencies import ISO_4217_CODES, minor_unit_exponent
from models.order import Customer, OrderLineIn, PlaceOrder

Loc = tuple[str | int, ...]
_DECIMAL = re.compile(r"^\d{1,18}(\.\d{1,12})?$")
_T = TypeVar("_T")


class ShopifyOrderError(ValueError):
    """A Shopify order that cannot become a PlaceOrder: `loc` names the Shopify field."""

    def __init__(self, loc: Loc, message: str, value: object = None) -> None:
        super().__init__(f"{'.'.join(map(str, loc))}: {message}")
        self.loc = loc
        self.message = message
        self.value = value


class ShopifyAddress(BaseModel):
    model_config = ConfigDict(extra="ignore")

    first_name: str | None = None
    last_name: str | None = None
    name: str | None = None
    address1: str | None = None
    address2: str | None = None
    city: str | None = None
    province_code: str | None = None
    zip: str | None = None
    country_code: str | None = None
    phone: str | None = None

    @property
    def full_name(self) -> str | None:
        return _name(self.first_name, self.last_name) or (self.name or "").strip() or None


class ShopifyCustomer(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: int | None = None
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None


class ShopifyLineItem(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: int | None = None
    sku: str | None = None
    quantity: int = Field(ge=0)
    current_quantity: int | None = Field(default=None, ge=0)
    fulfillable_quantity: int | None = None
    price: str = Field(max_length=40)

    @property
    def quantity_now(self) -> int:
        """The quantity after order edits removed some (Shopify's current_quantity), else the ordered one."""
        return self.quantity if self.current_quantity is None else self.current_quantity


class ShopifyShippingLine(BaseModel):
    model_config = ConfigDict(extra="ignore")

    title: str | None = None
    price: str | None = None


class ShopifyOrder(BaseModel):
    """The part of Shopify's order resource Omniroute reads."""

    model_config = ConfigDict(extra="ignore")

    id: int = Field(gt=0)
    name: str | None = None
    email: str | None = None
    contact_email: str | None = None
    currency: str = Field(min_length=1, max_length=8)
    line_items: list[ShopifyLineItem] = Field(default_factory=list, max_length=1000)
    shipping_lines: list[ShopifyShippingLine] = Field(default_factory=list, max_length=100)
    total_tax: str | None = None
    customer: ShopifyCustomer | None = None
    shipping_address: ShopifyAddress | None = None
    billing_address: ShopifyAddress | None = None
    cancelled_at: datetime | None = None
    cancel_reason: str | None = Field(default=None, max_length=64)


def place_order_from_shopify(channel: str, order: ShopifyOrder) -> PlaceOrder:
    """The PlaceOrder for Shopify's `order` arriving on `channel` (see the module docstring); raises
    ShopifyOrderError naming the field that cannot be mapped."""
    if order.currency not in ISO_4217_CODES:
        raise ShopifyOrderError(("currency",), "not an ISO 4217 currency code", order.currency)
    customer = _customer(order)
    ship_to = _ship_to(order, customer.name)
    lines = _lines(order)
    shipping = next((line.title for line in order.shipping_lines if line.title and line.title.strip()), None)
    attributes = {"shopify_order_name": order.name[:500]} if order.name else {}
    return _built(lambda: PlaceOrder(
        channel=channel, channel_order_id=str(order.id), currency=order.currency, customer=customer,
        ship_to=ship_to, lines=lines, shipping_method=shipping.strip()[:100] if shipping else None,
        attributes=attributes), _order_field)


def minor_units(price: str, currency: str, loc: Loc) -> int:
    """A decimal price string ("19.99") in minor units of `currency` (1999), exactly."""
    if not _DECIMAL.match(price.strip()):
        raise ShopifyOrderError(loc, "must be a non-negative decimal number such as \"19.99\"", price)
    try:
        amount = Decimal(price.strip()).scaleb(minor_unit_exponent(currency))
    except InvalidOperation:
        raise ShopifyOrderError(loc, "must be a decimal number", price) from None
    if amount != amount.to_integral_value():
        raise ShopifyOrderError(loc, f"has more decimals than {currency} has", price)
    return int(amount)


def current_quantities(order: ShopifyOrder) -> dict[str, int]:
    """Each SKU's quantity now (after order edits), summed over its line items; lines without a SKU left out."""
    quantities: dict[str, int] = {}
    for item in order.line_items:
        if item.sku and item.sku.strip():
            quantities[item.sku.strip()] = quantities.get(item.sku.strip(), 0) + item.quantity_now
    return quantities


def _customer(order: ShopifyOrder) -> Customer:
    email = order.email or order.contact_email or (order.customer.email if order.customer else None)
    if not email:
        raise ShopifyOrderError(("email",), "the order has no e-mail (nor contact_email, nor customer.email)")
    name = (_name(order.customer.first_name, order.customer.last_name) if order.customer else None) or next(
        (a.full_name for a in (order.shipping_address, order.billing_address) if a is not None and a.full_name),
        None)
    if name is None:
        raise ShopifyOrderError(("customer",), "no name: neither the customer nor an address has one")
    return _built(lambda: Customer(email=email, name=name[:200]),
                  lambda loc: ("email",) if loc[:1] == ("email",) else ("customer", "first_name"))


def _ship_to(order: ShopifyOrder, customer_name: str) -> Address:
    address = order.shipping_address
    if address is None:
        raise ShopifyOrderError(("shipping_address",), "required: Omniroute ships every Shopify order")
    fields: dict[str, object] = {
        "name": (address.full_name or customer_name)[:200], "line1": address.address1 or "",
        "line2": address.address2 or None, "city": address.city or "", "region": address.province_code or "",
        "country": address.country_code or "", "postal_code": address.zip or None, "phone": address.phone or None,
    }
    renamed = {"name": "last_name", "line1": "address1", "line2": "address2", "region": "province_code",
               "country": "country_code", "postal_code": "zip", "latitude": "zip", "__root__": "zip"}
    return _built(lambda: Address.model_validate(fields),
                  lambda loc: ("shipping_address", renamed.get(str(loc[0]) if loc else "__root__",
                                                               str(loc[0]) if loc else "zip")))


def _lines(order: ShopifyOrder) -> list[OrderLineIn]:
    merged: dict[str, tuple[int, int, int]] = {}  # sku -> (quantity, unit price, first index)
    for index, item in enumerate(order.line_items):
        loc: Loc = ("line_items", index)
        if item.sku is None or not item.sku.strip():
            raise ShopifyOrderError((*loc, "sku"), "every line needs a SKU: Omniroute sources stock by SKU")
        price = minor_units(item.price, order.currency, (*loc, "price"))
        if item.quantity_now == 0:
            continue
        sku = item.sku.strip()
        if sku in merged:
            quantity, first_price, first = merged[sku]
            if first_price != price:
                raise ShopifyOrderError((*loc, "price"), f"SKU {sku} is also on line_items.{first} at another "
                                        "price; Omniroute takes a SKU once per order", item.price)
            merged[sku] = (quantity + item.quantity_now, price, first)
        else:
            merged[sku] = (item.quantity_now, price, index)
    if not merged:
        raise ShopifyOrderError(("line_items",), "no line with a quantity left to ship")
    return [_line(sku, quantity, price, first) for sku, (quantity, price, first) in merged.items()]


def _line(sku: str, quantity: int, price: int, index: int) -> OrderLineIn:
    """Our line for the SKU first seen on line_items[index]; an error names that line item's field."""
    fields = {"sku": "sku", "quantity": "current_quantity", "unit_price": "price"}
    return _built(lambda: OrderLineIn(sku=sku, quantity=quantity, unit_price=price),
                  lambda loc: ("line_items", index, fields.get(str(loc[0]), "sku") if loc else "sku"))


def _order_field(loc: Sequence[str | int]) -> Loc:
    """The Shopify field behind an error PlaceOrder found in the whole order (its total, its SKUs)."""
    return ("line_items",) if not loc or loc[0] == "lines" else (str(loc[0]),)


def _built(build: Callable[[], _T], shopify_loc: Callable[[Loc], Loc]) -> _T:
    """`build()`, with a validation error turned into a ShopifyOrderError naming the Shopify field."""
    try:
        return build()
    except ValidationError as err:
        error = err.errors()[0]
        raise ShopifyOrderError(shopify_loc(tuple(error["loc"])), error["msg"], error.get("input")) from None


def _name(first: str | None, last: str | None) -> str | None:
    return " ".join(part.strip() for part in (first, last) if part and part.strip()) or None
