"""Domain types: money, addresses, orders and the shipment state machine."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from models.address import Address
from models.money import Money
from models.names import order_id_of_shipment, shipment_id_for
from models.order import Customer, OrderLineIn, PlaceOrder
from models.shipment import (
    InvalidTransition,
    ShipmentEventType,
    ShipmentState,
    has_left_the_building,
    next_state,
)


def test_money_adds_in_minor_units_and_refuses_to_mix_currencies() -> None:
    assert Money(amount=1999, currency="USD") + Money(amount=1, currency="USD") == Money(amount=2000, currency="USD")
    with pytest.raises(ValueError, match="USD with EUR"):
        Money(amount=1, currency="USD") + Money(amount=1, currency="EUR")


def test_a_currency_must_be_an_iso_code() -> None:
    with pytest.raises(ValidationError, match="currency"):
        Money(amount=1, currency="usd")


def test_an_address_needs_a_postal_code_or_coordinates() -> None:
    with pytest.raises(ValidationError, match="postal_code or latitude"):
        Address(name="A", line1="1 St", city="X")
    assert Address(name="A", line1="1 St", city="X", latitude=41.9, longitude=-87.6).point is not None


def _order(**changes: object) -> PlaceOrder:
    fields: dict[str, object] = {
        "channel": "web", "channel_order_id": "1001", "currency": "USD",
        "customer": Customer(email="a@example.com", name="A"),
        "ship_to": Address(name="A", line1="1 St", city="Chicago", region="IL", postal_code="60601"),
        "lines": [OrderLineIn(sku="SKU-1", quantity=2, unit_price=1999)],
    }
    fields.update(changes)
    return PlaceOrder.model_validate(fields)


def test_an_order_id_is_its_channel_and_channel_order_id_and_its_total_is_exact() -> None:
    order = _order(lines=[OrderLineIn(sku="A", quantity=3, unit_price=333),
                          OrderLineIn(sku="B", quantity=1, unit_price=1)])
    assert order.order_id == "web-1001"
    assert order.total == Money(amount=1000, currency="USD")


def test_an_order_with_the_same_sku_on_two_lines_is_refused() -> None:
    with pytest.raises(ValidationError, match="one line only"):
        _order(lines=[OrderLineIn(sku="A", quantity=1, unit_price=1), OrderLineIn(sku="A", quantity=1, unit_price=1)])


def test_an_order_needs_at_least_one_line_with_a_positive_quantity() -> None:
    with pytest.raises(ValidationError, match="lines"):
        _order(lines=[])
    with pytest.raises(ValidationError, match="quantity"):
        _order(lines=[{"sku": "A", "quantity": 0, "unit_price": 1}])


def test_a_shipment_moves_forward_and_may_skip_scans() -> None:
    assert next_state(ShipmentState.RELEASED, ShipmentEventType.PICKED) is ShipmentState.PICKED
    assert next_state(ShipmentState.RELEASED, ShipmentEventType.SHIPPED) is ShipmentState.SHIPPED
    assert has_left_the_building(ShipmentState.IN_TRANSIT)
    assert not has_left_the_building(ShipmentState.PACKED)


@pytest.mark.parametrize(("state", "event"), [
    (ShipmentState.PACKED, ShipmentEventType.PICKED),
    (ShipmentState.SHIPPED, ShipmentEventType.SHIPPED),
    (ShipmentState.PENDING, ShipmentEventType.PICKED),
    (ShipmentState.CANCELLED, ShipmentEventType.DELIVERED),
])
def test_a_shipment_never_moves_back_before_release_or_after_cancel(state: ShipmentState,
                                                                    event: ShipmentEventType) -> None:
    with pytest.raises(InvalidTransition):
        next_state(state, event)


@pytest.mark.parametrize("order_id", ["web-1001", "web-A-S5", "marketplace-x-S-S12"])
def test_a_shipment_id_names_its_order(order_id: str) -> None:
    assert order_id_of_shipment(shipment_id_for(order_id, 3)) == order_id


def test_a_string_that_is_no_shipment_id_is_refused() -> None:
    with pytest.raises(ValueError, match="not a shipment id"):
        order_id_of_shipment("web-1001")


def test_the_sdk_is_importable_from_the_package_root() -> None:
    from omniroute import OmnirouteClient
    from omniroute.client import OmnirouteClient as Direct

    assert OmnirouteClient is Direct


def test_a_store_sla_takes_its_pickup_window_in_minutes_or_days_never_both() -> None:
    from datetime import timedelta

    from models.network import NodeSla

    assert NodeSla(pickup_minutes=2).pickup_window(7) == timedelta(minutes=2)
    assert NodeSla(pickup_days=3).pickup_window(7) == timedelta(days=3)
    assert NodeSla().pickup_window(7) == timedelta(days=7)
    with pytest.raises(ValidationError, match="`pickup_minutes` and `pickup_days` both set"):
        NodeSla(pickup_minutes=2, pickup_days=1)
    with pytest.raises(ValidationError, match="pickup_minutes"):
        NodeSla(pickup_minutes=0)
    with pytest.raises(ValidationError, match="pickup_minutes"):
        NodeSla(pickup_minutes=60 * 24 * 60 + 1)
    assert NodeSla(pickup_minutes=60 * 24 * 60).pickup_window(7) == timedelta(days=60)
