"""Shopify's order resource (as its orders/* webhooks carry it) becomes our PlaceOrder: the ids, the
customer, the address, prices in minor units by the currency's exponent, and a ShopifyOrderError naming
the Shopify field when it cannot."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from models.shopify import ShopifyOrder, ShopifyOrderError, current_quantities, minor_units, place_order_from_shopify

# The shape of Shopify's orders/create body (REST order resource, no wrapper), trimmed of fields we ignore
# but keeping some of them to prove they are ignored.
ORDER: dict[str, Any] = {
    "id": 820982911946154508,
    "admin_graphql_api_id": "gid://shopify/Order/820982911946154508",
    "name": "#9999",
    "order_number": 1234,
    "email": "jon@example.com",
    "contact_email": "jon@example.com",
    "created_at": "2026-12-05T12:00:00-05:00",
    "currency": "USD",
    "presentment_currency": "USD",
    "financial_status": "paid",
    "fulfillment_status": None,
    "total_price": "403.00",
    "total_tax": "23.00",
    "cancelled_at": None,
    "cancel_reason": None,
    "customer": {"id": 115310627314723954, "email": "jon@example.com", "first_name": "Jon", "last_name": "Snow",
                 "phone": None},
    "shipping_address": {"first_name": "Steve", "last_name": "Shipper", "address1": "123 Shipping Street",
                         "address2": "Suite 4", "city": "Chicago", "province": "Illinois", "province_code": "IL",
                         "zip": "60601", "country": "United States", "country_code": "US", "phone": "555-555-SHIP",
                         "company": "Shipping Company", "name": "Steve Shipper"},
    "billing_address": {"first_name": "Bob", "last_name": "Biller", "address1": "123 Billing Street",
                        "city": "Chicago", "province_code": "IL", "zip": "60601", "country_code": "US"},
    "line_items": [
        {"id": 866550311766439020, "variant_id": 808950810, "product_id": 632910392, "title": "IPod Nano - 8GB",
         "sku": "IPOD2008PINK", "quantity": 1, "current_quantity": 1, "fulfillable_quantity": 1,
         "price": "199.00", "price_set": {"shop_money": {"amount": "199.00", "currency_code": "USD"}},
         "requires_shipping": True, "taxable": True, "tax_lines": [{"price": "11.94", "rate": 0.06, "title": "IL"}]},
        {"id": 141249953214522974, "variant_id": 457924702, "product_id": 632910392, "title": "IPod Nano - 8GB",
         "sku": "IPOD2008BLACK", "quantity": 2, "current_quantity": 2, "fulfillable_quantity": 2,
         "price": "99.50", "requires_shipping": True},
    ],
    "shipping_lines": [{"id": 271878346596884015, "title": "Generic Shipping", "code": "generic", "price": "10.00"}],
    "tax_lines": [{"price": "23.00", "rate": 0.06, "title": "State Tax"}],
}


def an_order(**changes: Any) -> ShopifyOrder:
    body = copy.deepcopy(ORDER)
    body.update(changes)
    return ShopifyOrder.model_validate_json(json.dumps(body))


def line(**changes: Any) -> dict[str, Any]:
    item = copy.deepcopy(ORDER["line_items"][0])
    item.update(changes)
    return item


def refusal(order: ShopifyOrder) -> ShopifyOrderError:
    with pytest.raises(ShopifyOrderError) as refused:
        place_order_from_shopify("shop_us", order)
    return refused.value


def test_a_documented_order_maps_to_a_place_order_with_shopifys_id_as_the_channel_order_id() -> None:
    placed = place_order_from_shopify("shop_us", an_order())

    assert placed.order_id == "shop_us-820982911946154508"
    assert placed.channel_order_id == "820982911946154508"
    assert placed.currency == "USD"
    assert (placed.customer.email, placed.customer.name) == ("jon@example.com", "Jon Snow")
    assert placed.ship_to is not None
    assert placed.ship_to.model_dump(exclude_none=True) == {
        "name": "Steve Shipper", "line1": "123 Shipping Street", "line2": "Suite 4", "city": "Chicago",
        "region": "IL", "country": "US", "postal_code": "60601", "phone": "555-555-SHIP"}
    assert [(x.sku, x.quantity, x.unit_price) for x in placed.lines] == [
        ("IPOD2008PINK", 1, 19900), ("IPOD2008BLACK", 2, 9950)]
    assert placed.shipping_method == "Generic Shipping"
    assert placed.attributes == {"shopify_order_name": "#9999"}
    assert placed.total.amount == 39800  # lines only: PlaceOrder carries no shipping or tax


@pytest.mark.parametrize(("currency", "price", "minor"), [
    ("USD", "19.99", 1999), ("USD", "20", 2000), ("USD", "0.10", 10), ("JPY", "1500", 1500), ("JPY", "1500.00", 1500),
    ("KWD", "1.234", 1234), ("USD", "12345678901.23", 1234567890123), ("USD", "0.29", 29), ("USD", "1.15", 115),
])
def test_prices_become_minor_units_exactly_by_the_currencys_exponent(currency: str, price: str, minor: int) -> None:
    assert minor_units(price, currency, ("price",)) == minor


@pytest.mark.parametrize(("currency", "price"), [
    ("USD", "19.999"), ("JPY", "1500.5"), ("USD", "-1.00"), ("USD", "1e3"), ("USD", "NaN"), ("USD", ""),
    ("USD", "1,000.00"),
])
def test_a_price_that_is_not_exact_in_the_currency_is_refused(currency: str, price: str) -> None:
    with pytest.raises(ShopifyOrderError) as refused:
        minor_units(price, currency, ("line_items", 0, "price"))
    assert refused.value.loc == ("line_items", 0, "price")


def test_a_line_without_a_sku_is_refused_naming_it() -> None:
    error = refusal(an_order(line_items=[line(), line(sku=None, id=2)]))
    assert error.loc == ("line_items", 1, "sku")
    assert refusal(an_order(line_items=[line(sku="  ")])).loc == ("line_items", 0, "sku")


def test_a_price_with_too_many_decimals_names_its_line() -> None:
    assert refusal(an_order(line_items=[line(price="1.005")])).loc == ("line_items", 0, "price")


def test_line_items_of_one_sku_and_price_become_one_line_and_removed_lines_are_left_out() -> None:
    order = an_order(line_items=[line(quantity=1), line(id=2, quantity=3, current_quantity=3),
                                 line(id=3, sku="GONE", quantity=2, current_quantity=0)])

    placed = place_order_from_shopify("shop_us", order)

    assert [(x.sku, x.quantity) for x in placed.lines] == [("IPOD2008PINK", 4)]
    assert current_quantities(order) == {"IPOD2008PINK": 4, "GONE": 0}


def test_one_sku_at_two_prices_is_refused_naming_the_second() -> None:
    assert refusal(an_order(line_items=[line(), line(id=2, price="1.00")])).loc == ("line_items", 1, "price")


def test_an_order_with_every_line_removed_is_refused() -> None:
    assert refusal(an_order(line_items=[line(current_quantity=0)])).loc == ("line_items",)


def test_the_email_falls_back_to_the_customers_and_the_name_to_the_shipping_address() -> None:
    order = an_order(email=None, contact_email=None, customer={"id": 1, "email": "guest@example.com"})

    placed = place_order_from_shopify("shop_us", order)

    assert (placed.customer.email, placed.customer.name) == ("guest@example.com", "Steve Shipper")


def test_an_order_without_an_email_or_with_a_bad_one_is_refused_naming_email() -> None:
    assert refusal(an_order(email=None, contact_email=None, customer=None)).loc == ("email",)
    assert refusal(an_order(email="not-an-address")).loc == ("email",)


def test_an_order_without_a_shipping_address_is_refused() -> None:
    assert refusal(an_order(shipping_address=None)).loc == ("shipping_address",)


@pytest.mark.parametrize(("field", "value", "named"), [
    ("zip", None, "zip"), ("address1", "", "address1"), ("country_code", "USA", "country_code"),
    ("city", None, "city"),
])
def test_an_address_that_cannot_be_ours_names_shopifys_field(field: str, value: Any, named: str) -> None:
    address = dict(ORDER["shipping_address"], **{field: value})
    assert refusal(an_order(shipping_address=address)).loc == ("shipping_address", named)


def test_an_unknown_currency_is_refused() -> None:
    assert refusal(an_order(currency="XYZ")).loc == ("currency",)


def test_a_quantity_over_our_limit_names_the_line_items_quantity() -> None:
    assert refusal(an_order(line_items=[line(quantity=20_000, current_quantity=20_000)])).loc == (
        "line_items", 0, "current_quantity")
