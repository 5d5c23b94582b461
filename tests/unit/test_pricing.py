"""Pricing an order into a SourcingProblem: the service each node would use, its promise, its linear costs."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.costs import LinearCostModel, ServiceLevel
from models.network import Capability, NodeKind
from models.shipment import ShipmentLine
from sourcing.costs import quote_shipment
from sourcing.inputs import SourcingInput
from sourcing.pricing import price_linear_problem, price_problem
from tests.fixtures.sourcing import (
    ORIGIN,
    TUESDAY_10AM_CHICAGO,
    at_miles,
    card,
    catalog,
    cost_model,
    node,
    service,
)

TEE_UNIT_LB = 10 * 8 * 1 / 139  # a tee is billed by its volume: 0.576 lb against 0.375 lb actual
NEAR, FAR = at_miles(100), at_miles(2000)  # zone 2 and zone 8 from the customer at ORIGIN
TWO_TEES = [ShipmentLine(line_no=1, sku="TEE", quantity=2)]


def test_each_node_gets_the_cheapest_service_that_keeps_the_date_and_a_node_that_cannot_is_flagged() -> None:
    nodes = [node("dc-near", point=NEAR), node("dc-far", point=FAR),
             node("vendor", kind=NodeKind.DROPSHIP, point=NEAR)]
    atp = {n.node_id: {"TEE": 5} for n in nodes}
    problem = price_problem(SourcingInput(
        order_id="o-1", lines=TWO_TEES, destination=ORIGIN, nodes=nodes, atp=atp, model=cost_model(), catalog=catalog(),
        now=TUESDAY_10AM_CHICAGO, deliver_by=date(2025, 3, 6)))
    by_node = {c.node_id: c for c in problem.candidates}
    assert (by_node["dc-near"].service, by_node["dc-near"].delivery_date) == ("t-ground", date(2025, 3, 5))
    assert (by_node["dc-far"].service, by_node["dc-far"].delivery_date) == ("t-2day", date(2025, 3, 6))
    assert by_node["dc-near"].meets_promise and by_node["dc-far"].meets_promise
    # The vendor ships Friday after three processing days; next-day air delivers Saturday, too late.
    vendor = by_node["vendor"]
    assert (vendor.service, vendor.delivery_date, vendor.meets_promise) == ("t-1day", date(2025, 3, 8), False)


def test_a_service_level_promise_rules_out_slower_services_even_when_they_arrive_as_soon() -> None:
    problem = price_problem(SourcingInput(
        order_id="o-2", lines=TWO_TEES, destination=ORIGIN, nodes=[node("dc-near", point=NEAR)],
        atp={"dc-near": {"TEE": 5}}, model=cost_model(), catalog=catalog(), now=TUESDAY_10AM_CHICAGO,
        level=ServiceLevel.TWO_DAY))
    [candidate] = problem.candidates
    assert (candidate.service, candidate.delivery_date, candidate.meets_promise) == ("t-2day", date(2025, 3, 6), True)


def test_linear_costs_are_handling_plus_the_one_pound_price_and_the_cards_slope_per_unit_pound() -> None:
    problem = price_problem(SourcingInput(
        order_id="o-3", lines=TWO_TEES, destination=ORIGIN, nodes=[node("dc-near", point=NEAR)],
        atp={"dc-near": {"TEE": 5}}, model=cost_model(), catalog=catalog(), now=TUESDAY_10AM_CHICAGO,
        shadow_prices={("dc-near", "TEE"): 12.5}))
    [candidate] = problem.candidates
    assert candidate.shipment_cost == 150 + 1000
    assert candidate.unit_cost["TEE"] == pytest.approx(35 + 50 * TEE_UNIT_LB + 12.5)
    assert candidate.distance_km == pytest.approx(160.934, abs=0.01)
    assert (candidate.atp, candidate.capacity_left) == ({"TEE": 5}, None)


def test_taking_a_stores_last_units_costs_the_protection_penalty_spread_over_the_units_taken() -> None:
    model = cost_model(store_protect_units=2, store_protect_cents=400)
    stores = [node("store-low", kind=NodeKind.STORE, point=NEAR), node("store-deep", kind=NodeKind.STORE, point=NEAR)]
    problem = price_problem(SourcingInput(
        order_id="o-4", lines=TWO_TEES, destination=ORIGIN, nodes=stores,
        atp={"store-low": {"TEE": 3}, "store-deep": {"TEE": 10}}, model=model, catalog=catalog(),
        now=TUESDAY_10AM_CHICAGO, shipments_today={"store-low": 4, "store-deep": 12}))
    by_node = {c.node_id: c for c in problem.candidates}
    # Two of three units leave one unprotected unit and take one protected: 400 cents over 2 units.
    assert by_node["store-low"].unit_cost["TEE"] == pytest.approx(70 + 50 * TEE_UNIT_LB + 200)
    assert by_node["store-deep"].unit_cost["TEE"] == pytest.approx(70 + 50 * TEE_UNIT_LB)
    assert (by_node["store-low"].capacity_left, by_node["store-deep"].capacity_left) == (6, 0)


def test_nodes_that_cannot_ship_the_order_are_left_out_and_the_penalties_come_from_the_model() -> None:
    nodes = [node("dc-ok", point=NEAR), node("dc-closed", point=NEAR, active=False),
             node("store-pickup", kind=NodeKind.STORE, point=NEAR, capabilities=[Capability.PICKUP]),
             node("dc-other-sku", point=NEAR)]
    atp = {"dc-ok": {"TEE": 1}, "dc-closed": {"TEE": 9}, "store-pickup": {"TEE": 9}, "dc-other-sku": {"BOX": 9}}
    model = cost_model(split_penalty_cents=150, unfilled_penalty_cents=50_000)
    problem = price_problem(SourcingInput(order_id="o-5", lines=TWO_TEES, destination=ORIGIN, nodes=nodes, atp=atp,
                                          model=model, catalog=catalog(), now=TUESDAY_10AM_CHICAGO))
    assert [c.node_id for c in problem.candidates] == ["dc-ok"]
    assert (problem.split_penalty, problem.unfilled_penalty) == (150.0, 50_000.0)


def test_the_literature_form_prices_a_fixed_shipment_and_units_by_the_mile() -> None:
    problem = price_linear_problem("o-6", TWO_TEES, ORIGIN, [("fc-1", NEAR), ("fc-2", FAR)],
                                   {"fc-1": {"TEE": 4}, "fc-2": {}}, LinearCostModel())
    [candidate] = problem.candidates
    assert (candidate.node_id, candidate.shipment_cost) == ("fc-1", 875.9)
    assert candidate.unit_cost["TEE"] == pytest.approx(42.3 + 0.0541 * 100, abs=1e-6)
    assert problem.unfilled_penalty == 100_000.0


@settings(max_examples=60, deadline=None)
@given(tees=st.integers(0, 5), boxes=st.integers(0, 2), bricks=st.integers(0, 2), miles=st.floats(0, 2500))
def test_the_linear_cost_never_undercuts_the_exact_quote(tees: int, boxes: int, bricks: int, miles: float) -> None:
    quantities = {"TEE": tees, "BOX": boxes, "BRICK": bricks}
    lines = [ShipmentLine(line_no=i, sku=sku, quantity=q) for i, (sku, q) in enumerate(quantities.items(), 1) if q]
    if not lines:
        return
    model = cost_model(services=[service(rates=card(1000, 100, 50, rows=30))])
    dc = node("dc-1", point=at_miles(miles))
    [candidate] = price_problem(SourcingInput(
        order_id="o-7", lines=lines, destination=ORIGIN, nodes=[dc], atp={"dc-1": {"TEE": 9, "BOX": 9, "BRICK": 9}},
        model=model, catalog=catalog(), now=TUESDAY_10AM_CHICAGO)).candidates
    linear = candidate.shipment_cost + sum(candidate.unit_cost[line.sku] * line.quantity for line in lines)
    exact = quote_shipment(model, catalog(), dc, model.services[0], lines, ORIGIN, TUESDAY_10AM_CHICAGO).total_cents
    assert linear >= exact - 1e-6
    if not bricks:  # tees and boxes are both billed by volume: within one pound's marginal price
        assert linear - exact < 50
