"""Shadow prices from the transportation LP, and the look-ahead strategy they steer."""

from __future__ import annotations

import pytest

from models.shipment import ShipmentLine
from sourcing.lookahead import LookAheadStrategy, shadow_prices, with_prices
from sourcing.optimizer import MilpStrategy
from sourcing.problem import PricedCandidate, SourcingProblem

# Two nodes with 10 units each. The west region expects 12 units and only node A reaches it
# cheaply (100 vs 900 a unit); the east expects 5 and is served almost as well by B (150) as by A (100).
SUPPLY = {("A", "S"): 10, ("B", "S"): 10}
DEMAND = {("west", "S"): 12.0, ("east", "S"): 5.0}
COST = {("A", "west"): 100.0, ("B", "west"): 900.0, ("A", "east"): 100.0, ("B", "east"): 150.0}


def test_a_unit_at_the_node_the_west_depends_on_is_worth_what_the_west_would_pay_without_it() -> None:
    # The LP sends A's 10 units west, tops the west up from B, and serves the east from B: B has
    # stock to spare (price 0); one unit fewer at A sends one more west unit from B: +800.
    assert shadow_prices(SUPPLY, DEMAND, COST, unfilled_penalty=100_000) == {("A", "S"): 800.0, ("B", "S"): 0.0}


def test_when_demand_outruns_supply_a_unit_is_worth_the_penalty_it_avoids() -> None:
    assert shadow_prices({("A", "S"): 1}, {("west", "S"): 2.0}, {("A", "west"): 100.0}, 1000) == {("A", "S"): 900.0}


def test_stock_nobody_is_forecast_to_want_is_free() -> None:
    prices = shadow_prices({("A", "S"): 5, ("A", "T"): 3}, {("west", "S"): 2.0}, {("A", "west"): 100.0}, 1000)
    assert prices == {("A", "S"): 0.0, ("A", "T"): 0.0}


def test_negative_or_missing_numbers_are_refused_by_name() -> None:
    with pytest.raises(ValueError, match="supply"):
        shadow_prices({("A", "S"): -1}, DEMAND, COST, 100)
    with pytest.raises(ValueError, match="unfilled_penalty"):
        shadow_prices(SUPPLY, DEMAND, COST, float("nan"))
    with pytest.raises(ValueError, match="prices"):
        LookAheadStrategy().set_prices({("A", "S"): -5.0})


def east_order() -> SourcingProblem:
    """One unit for an eastern customer: from A it costs 600, from B 650."""
    return SourcingProblem(
        order_id="east-1",
        lines=[ShipmentLine(line_no=1, sku="S", quantity=1)],
        candidates=[
            PricedCandidate(node_id="A", service="ground", distance_km=300, shipment_cost=500,
                            unit_cost={"S": 100}, atp={"S": 10}),
            PricedCandidate(node_id="B", service="ground", distance_km=200, shipment_cost=500,
                            unit_cost={"S": 150}, atp={"S": 10}),
        ],
    )


def test_the_shadow_price_keeps_the_east_away_from_the_stock_the_west_needs() -> None:
    myopic = MilpStrategy().solve(east_order())
    assert myopic.nodes() == ["A"] and myopic.objective == 600
    look_ahead = LookAheadStrategy()
    look_ahead.set_prices(shadow_prices(SUPPLY, DEMAND, COST, unfilled_penalty=100_000))
    chosen = look_ahead.solve(east_order())
    assert chosen.nodes() == ["B"]
    assert (chosen.objective, chosen.method) == (650, "look-ahead")  # the order's own cost, prices left out


def test_without_prices_look_ahead_is_the_myopic_optimum() -> None:
    assert LookAheadStrategy().solve(east_order()).nodes() == ["A"]


def test_prices_raise_only_the_order_skus_and_reach_nodes_with_no_listed_cost() -> None:
    problem = east_order()
    bare = problem.candidates[1].model_copy(update={"unit_cost": {}})
    priced = with_prices(problem.model_copy(update={"candidates": [problem.candidates[0], bare]}),
                         {("A", "S"): 7.0, ("A", "T"): 99.0, ("B", "S"): 3.0})
    assert [c.unit_cost for c in priced.candidates] == [{"S": 107.0}, {"S": 3.0}]


def test_the_price_weight_multiplies_the_prices_before_they_steer() -> None:
    # A unit from A is worth 30 to later orders: 600 + 30 < 650 keeps the order at A; weighted twice,
    # 600 + 60 > 650 sends it to B. The objective stays the order's own cost either way.
    plain, doubled = LookAheadStrategy(), LookAheadStrategy(price_weight=2.0)
    for strategy in (plain, doubled):
        strategy.set_prices({("A", "S"): 30.0, ("B", "S"): 0.0})
    assert doubled.prices == {("A", "S"): 60.0, ("B", "S"): 0.0}
    assert (plain.solve(east_order()).nodes(), plain.solve(east_order()).objective) == (["A"], 600)
    assert (doubled.solve(east_order()).nodes(), doubled.solve(east_order()).objective) == (["B"], 650)


def test_a_negative_price_weight_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="price_weight"):
        LookAheadStrategy(price_weight=-1.0)
