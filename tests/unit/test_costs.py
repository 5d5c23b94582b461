"""Rate cards, zones, billable weight and exact parcel quotes, on hand-checkable numbers; cost data validation
and loading."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from models.catalog import Catalog, SkuAttributes
from models.costs import LinearCostModel, NodeCosts, ServiceLevel, ZoneBand
from models.network import NodeKind
from models.shipment import ShipmentLine
from omniroute.demo.network import load_network
from omniroute.files.cost_files import (
    CostFileError,
    demo_catalog_path,
    demo_cost_model_path,
    load_catalog,
    load_cost_model,
)
from sourcing.costs import billable_weight_lb, marginal_cents_per_lb, quote_shipment, rate_cents, zone_for_miles
from tests.fixtures.sourcing import TUESDAY_10AM_CHICAGO, at_miles, card, catalog, cost_model, node, service


def test_zones_follow_the_distance_bands() -> None:
    cases = {0: 1, 50: 1, 50.5: 2, 150: 2, 151: 3, 300: 3, 600: 4, 999: 5, 1400: 6, 1800: 7, 1800.1: 8, 3000: 8}
    assert {miles: zone_for_miles(miles) for miles in cases} == cases
    with pytest.raises(ValueError, match="negative"):
        zone_for_miles(-1)


def test_billable_weight_is_the_larger_of_actual_and_dimensional_rounded_up() -> None:
    three_tees = [ShipmentLine(line_no=1, sku="TEE", quantity=3)]  # 1.125 lb actual, 240 in3 -> 1.73 lb dim
    assert billable_weight_lb(three_tees, catalog(), 139) == 2
    box = [ShipmentLine(line_no=1, sku="BOX", quantity=1)]  # 2.5 lb actual, 960 in3 / 139 = 6.9 lb dim
    assert billable_weight_lb(box, catalog(), 139) == 7
    assert billable_weight_lb(box, catalog(), 1000) == 3
    assert billable_weight_lb([ShipmentLine(line_no=1, sku="TEE", quantity=1)], catalog(), 10_000) == 1
    assert billable_weight_lb([ShipmentLine(line_no=1, sku="UNKNOWN", quantity=2)], catalog(), 139) == 2


def test_the_rate_card_prices_zone_one_as_its_first_zone_and_adds_extra_pounds_past_its_last_row() -> None:
    ground = service()
    assert rate_cents(ground, 3, 4) == 1000 + 100 + 150
    assert rate_cents(ground, 1, 1) == rate_cents(ground, 2, 1) == 1000
    assert rate_cents(ground, 8, 13) == rate_cents(ground, 8, 10) + 3 * 60 == 1600 + 450 + 180
    assert marginal_cents_per_lb(ground, 5) == 50
    with pytest.raises(ValueError, match="does not serve zone 9"):
        rate_cents(ground, 9, 1)


def test_a_quote_is_hand_checkable_and_its_parts_add_up() -> None:
    box = [ShipmentLine(line_no=1, sku="BOX", quantity=1)]
    quote = quote_shipment(cost_model(), catalog(), node(), service(), box, at_miles(200), TUESDAY_10AM_CHICAGO)
    assert (quote.zone, quote.billable_weight_lb, quote.actual_weight_lb) == (3, 7, 2.5)
    assert quote.carrier_cents == 1000 + 100 + 6 * 50
    assert (quote.handling_order_cents, quote.handling_units_cents, quote.total_cents) == (150, 35, 1585)
    assert (quote.ship_date, quote.delivery_date) == (date(2025, 3, 4), date(2025, 3, 6))
    assert str(quote.total) == "15.85 USD" and 199 < quote.miles < 201


@settings(max_examples=60, deadline=None)
@given(tees=st.integers(1, 40), boxes=st.integers(0, 10), more=st.integers(1, 10), miles=st.floats(0, 3000))
def test_quote_parts_sum_to_the_total_and_the_price_never_falls_as_the_parcel_grows(
    tees: int, boxes: int, more: int, miles: float
) -> None:
    def quote(extra: int) -> int:
        contents = [ShipmentLine(line_no=1, sku="TEE", quantity=tees + extra)]
        if boxes:
            contents.append(ShipmentLine(line_no=2, sku="BOX", quantity=boxes))
        q = quote_shipment(cost_model(), catalog(), node(), service(), contents, at_miles(miles), TUESDAY_10AM_CHICAGO)
        assert q.total_cents == q.carrier_cents + q.handling_order_cents + q.handling_units_cents
        return q.total_cents

    assert quote(0) <= quote(more)


@given(zone=st.integers(1, 8), pounds=st.integers(1, 30))
def test_a_card_price_never_falls_with_weight_or_zone(zone: int, pounds: int) -> None:
    ground = service()
    assert rate_cents(ground, zone, pounds) <= rate_cents(ground, zone, pounds + 1)
    assert rate_cents(ground, zone, pounds) <= rate_cents(ground, min(zone + 1, 8), pounds)


def test_a_rate_card_row_missing_a_zone_is_refused_naming_rates() -> None:
    rates = card(1000, 100, 50)
    del rates[3][5]
    with pytest.raises(ValidationError, match=r"rates\n.*row 3 lb has zones \[2, 3, 4, 6, 7, 8\]"):
        service(rates=rates)


@pytest.mark.parametrize(("change", "message"), [
    ({"rates": {1: {**card(1000, 100, 50)[1], 5: 900}}}, r"rates\n.*row 1 lb: price falls as the zone grows"),
    ({"rates": {**card(1000, 100, 50), 4: dict.fromkeys(range(2, 9), 10)}}, r"rates\n.*row 4 lb is cheaper than row 3"),
    ({"rates": {1: card(1000, 100, 50)[1], 3: card(1000, 100, 50)[3]}}, r"rates\n.*every pound from 1 to 3"),
    ({"transit_days": {**dict.fromkeys(range(2, 8), 3), 8: 2}}, r"transit_days\n.*must not fall"),
    ({"extra_lb_cents": -1}, r"extra_lb_cents\n"),
    ({"dim_divisor": 0}, r"dim_divisor\n"),
    ({"name": "UPS Ground"}, r"name\n"),
    ({"surcharge": 5}, r"surcharge\n.*Extra inputs are not permitted"),
])
def test_a_bad_carrier_service_is_refused_naming_the_field(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        service(**change)


@pytest.mark.parametrize(("change", "message"), [
    ({"cutoff": "25:00"}, r"cutoff\n"),
    ({"cutoff": "2pm"}, r"cutoff\n"),
    ({"timezone": "Mars/Olympus"}, r"timezone\n.*unknown IANA time zone 'Mars/Olympus'"),
    ({"ship_weekdays": ["mon", "funday"]}, r"ship_weekdays\n.*'funday' is not a weekday"),
    ({"ship_weekdays": []}, r"ship_weekdays\n.*at least one weekday"),
    ({"daily_capacity": -1}, r"daily_capacity\n"),
    ({"handling_per_order_cents": -5}, r"handling_per_order_cents\n"),
])
def test_bad_node_costs_are_refused_naming_the_field(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        NodeCosts.model_validate(change)


def test_weekdays_read_as_names_or_numbers() -> None:
    assert NodeCosts(ship_weekdays=["Sat", "mon", 2]).ship_weekdays == (0, 2, 5)


def test_a_cost_model_refuses_twice_named_services_and_a_bounded_last_zone_band() -> None:
    with pytest.raises(ValidationError, match=r"services\n.*'t-ground' is used twice"):
        cost_model(services=[service(), service()])
    with pytest.raises(ValidationError, match=r"zone_chart\n.*last band"):
        cost_model(zone_chart=[ZoneBand(max_miles=100, zone=1)])
    with pytest.raises(ValidationError, match=r"zone_chart\n.*increase"):
        cost_model(zone_chart=[ZoneBand(max_miles=100, zone=1), ZoneBand(max_miles=50, zone=2),
                               ZoneBand(max_miles=None, zone=3)])


def test_a_node_override_replaces_only_the_fields_it_states() -> None:
    model = cost_model(nodes={"dc-east": {"timezone": "America/New_York", "daily_capacity": 7}})
    east = model.node_costs("dc-east", NodeKind.DC)
    assert (east.timezone, east.daily_capacity, east.handling_per_order_cents, east.cutoff) == (
        "America/New_York", 7, 150, "14:00")
    assert model.node_costs("dc-west", NodeKind.DC).timezone == "America/Chicago"
    assert model.node_costs("3pl-x", NodeKind.THREE_PL) == NodeCosts()


def test_the_catalogue_gives_unknown_skus_the_default_weight_and_refuses_a_bad_weight() -> None:
    assert Catalog(default_weight_lb=2.0).get("NEW-1").weight_lb == 2.0
    with pytest.raises(ValidationError, match=r"weight_lb\n"):
        SkuAttributes(sku="A", weight_lb=0)
    with pytest.raises(ValueError, match="listed twice"):
        Catalog.of([SkuAttributes(sku="A", weight_lb=1), SkuAttributes(sku="A", weight_lb=2)])


def test_the_linear_model_defaults_are_the_literatures_dollars_in_cents() -> None:
    linear = LinearCostModel()
    assert (linear.fixed_per_shipment_cents, linear.per_unit_cents, linear.per_unit_mile_cents) == (875.9, 42.3, 0.0541)


def test_the_demo_cost_model_and_catalogue_load_and_cover_every_demo_sku_at_its_weight() -> None:
    model = load_cost_model(demo_cost_model_path())
    assert {s.level for s in model.services} == set(ServiceLevel)
    assert all(s.max_weight_lb == 70 and sorted(s.transit_days) == list(range(2, 9)) for s in model.services)
    assert set(model.node_defaults) == set(NodeKind)
    network = load_network()
    assert set(model.nodes) == {n.node_id for n in network.nodes}
    demo_catalog = load_catalog(demo_catalog_path())
    assert {s.sku: s.weight_oz / 16 for s in network.skus} == {k: v.weight_lb for k, v in demo_catalog.skus.items()}
    assert "oversize" in demo_catalog.get("BIKE-RACK").tags


def test_a_bad_cost_model_file_is_refused_naming_the_file_and_the_field(tmp_path: Path) -> None:
    path = tmp_path / "costs.yaml"
    path.write_text(load_cost_model_text().replace("cutoff: \"15:00\"", "cutoff: \"15h\""), encoding="utf-8")
    with pytest.raises(CostFileError, match=r"^costs.yaml: node_defaults.dc.cutoff: String should match"):
        load_cost_model(path)
    (tmp_path / "costs.json").write_text('{"services": [], "currency": "USD"}', encoding="utf-8")
    with pytest.raises(CostFileError, match=r"costs.json: services: List should have at least 1 item"):
        load_cost_model(tmp_path / "costs.json")
    (tmp_path / "costs.txt").write_text("x", encoding="utf-8")
    with pytest.raises(CostFileError, match="costs.txt: unknown file type"):
        load_cost_model(tmp_path / "costs.txt")


def test_catalogue_files_load_from_csv_and_json_and_name_the_line_or_field_of_a_bad_value(tmp_path: Path) -> None:
    csv_path = tmp_path / "catalog.csv"
    csv_path.write_text("sku,weight_lb,tags\nA,1.5,fragile;oversize\nB,-2,\n", encoding="utf-8")
    with pytest.raises(CostFileError, match=r"catalog.csv line 3: weight_lb: Input should be greater than 0"):
        load_catalog(csv_path)
    csv_path.write_text("sku,weight_lb,tags\nA,1.5,fragile;oversize\n", encoding="utf-8")
    assert load_catalog(csv_path).get("A").tags == ["fragile", "oversize"]
    json_path = tmp_path / "catalog.json"
    json_path.write_text('{"default_weight_lb": 2, "skus": {"A": {"weight_lb": 3}}}', encoding="utf-8")
    loaded = load_catalog(json_path)
    assert (loaded.get("A").weight_lb, loaded.get("Z").weight_lb) == (3, 2)
    json_path.write_text('[{"sku": "A", "weight_lb": 1, "colour": "red"}]', encoding="utf-8")
    with pytest.raises(CostFileError, match=r"catalog.json: skus.A.colour: Extra inputs are not permitted"):
        load_catalog(json_path)


def load_cost_model_text() -> str:
    return demo_cost_model_path().read_text(encoding="utf-8")
