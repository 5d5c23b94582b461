"""Greedy baselines on hand-checkable orders, and the rules every plan of theirs keeps."""

from __future__ import annotations

import pytest
from hypothesis import given, settings

from models.shipment import ShipmentLine
from sourcing.greedy import GreedyNearest, SingleNodeFirst, best_from
from sourcing.problem import PricedCandidate, SourcingProblem
from tests.fixtures.sourcing_problems import assert_keeps_the_rules, order, problems, shipped


def node(node_id: str, km: float, atp: dict[str, int], *, ship: float = 500.0, unit: float = 10.0,
         capacity: int | None = None, promise: bool = True) -> PricedCandidate:
    return PricedCandidate(node_id=node_id, service="ground", distance_km=km, shipment_cost=ship,
                           unit_cost={sku: unit for sku in atp}, atp=atp, capacity_left=capacity,
                           meets_promise=promise)


def test_each_line_goes_to_the_nearest_node_that_can_fill_it() -> None:
    problem = order([("A", 2), ("B", 1)], [node("near", 10, {"A": 1, "B": 5}), node("mid", 50, {"A": 4}),
                                           node("far", 90, {"A": 9, "B": 9})])
    solution = GreedyNearest().solve(problem)
    assert shipped(solution) == [(1, "mid", 2), (2, "near", 1)]
    assert solution.method == "nearest" and solution.unfilled == {}
    assert solution.objective == 500 + 500 + 3 * 10


def test_a_line_no_node_can_fill_is_split_nearest_first_and_the_rest_is_unfilled() -> None:
    problem = order([("A", 10)], [node("far", 90, {"A": 4}), node("near", 10, {"A": 3})], unfilled_penalty=1000)
    solution = GreedyNearest().solve(problem)
    assert shipped(solution) == [(1, "far", 4), (1, "near", 3)]
    assert solution.unfilled == {1: 3}
    assert solution.objective == 1000 + 70 + 3 * 1000


def test_nodes_without_capacity_or_missing_a_required_promise_are_not_used() -> None:
    candidates = [node("full", 1, {"A": 5}, capacity=0), node("late", 2, {"A": 5}, promise=False),
                  node("ok", 3, {"A": 5}, capacity=1)]
    assert shipped(GreedyNearest().solve(order([("A", 1)], candidates))) == [(1, "ok", 1)]
    assert shipped(GreedyNearest().solve(order([("A", 1)], candidates, require_promise=False))) == [(1, "late", 1)]


def test_lines_of_one_sku_share_the_nodes_stock() -> None:
    problem = order([("A", 2), ("A", 2)], [node("near", 1, {"A": 3}), node("far", 9, {"A": 3})])
    assert shipped(GreedyNearest().solve(problem)) == [(1, "near", 2), (2, "far", 2)]


def test_no_new_node_opens_past_max_shipments() -> None:
    problem = order([("A", 1), ("B", 1)], [node("a", 1, {"A": 1}), node("b", 2, {"B": 1})], max_shipments=1)
    solution = GreedyNearest().solve(problem)
    assert shipped(solution) == [(1, "a", 1)] and solution.unfilled == {2: 1}


def test_ship_complete_takes_the_nearest_node_holding_the_whole_order_or_ships_nothing() -> None:
    candidates = [node("a", 1, {"A": 1}), node("b", 2, {"B": 1}), node("both", 7, {"A": 1, "B": 1})]
    solution = GreedyNearest().solve(order([("A", 1), ("B", 1)], candidates, ship_complete=True))
    assert shipped(solution) == [(1, "both", 1), (2, "both", 1)]
    nothing = GreedyNearest().solve(order([("A", 1), ("B", 1)], candidates[:2], ship_complete=True))
    assert nothing.assignments == [] and nothing.unfilled == {1: 1, 2: 1}


def test_single_node_first_takes_the_cheapest_node_that_holds_the_whole_order() -> None:
    candidates = [node("near-dear", 1, {"A": 2, "B": 2}, ship=900), node("far-cheap", 9, {"A": 2, "B": 2}, ship=400),
                  node("cheapest-but-short", 5, {"A": 2}, ship=100)]
    solution = SingleNodeFirst().solve(order([("A", 2), ("B", 1)], candidates))
    assert shipped(solution) == [(1, "far-cheap", 2), (2, "far-cheap", 1)]
    assert solution.method == "single-node" and solution.objective == 400 + 30


def test_single_node_first_falls_back_to_nearest_per_line_and_says_so() -> None:
    problem = order([("A", 1), ("B", 1)], [node("a", 5, {"A": 1}), node("b", 2, {"B": 1})])
    solution = SingleNodeFirst().solve(problem)
    assert shipped(solution) == [(1, "a", 1), (2, "b", 1)]
    assert "no single node" in solution.status


def test_best_from_fills_cheapest_first_and_leaves_units_dearer_than_the_penalty() -> None:
    cheap = PricedCandidate(node_id="cheap", service="g", distance_km=1, shipment_cost=0,
                            unit_cost={"A": 5, "B": 900}, atp={"A": 1, "B": 3})
    dear = PricedCandidate(node_id="dear", service="g", distance_km=1, shipment_cost=0, unit_cost={"A": 50},
                           atp={"A": 5})
    problem = order([("A", 3), ("B", 1)], [cheap, dear], unfilled_penalty=100)
    plan = best_from(problem, [dear, cheap])
    assert [(a.line_no, a.node_id, a.quantity) for a in plan] == [(1, "cheap", 1), (1, "dear", 2)]


def test_a_repeated_line_number_or_node_id_is_refused_by_name() -> None:
    repeated_line = SourcingProblem(order_id="o", candidates=[], lines=[
        ShipmentLine(line_no=1, sku="A", quantity=1), ShipmentLine(line_no=1, sku="B", quantity=1)])
    with pytest.raises(ValueError, match="lines: line_no 1"):
        GreedyNearest().solve(repeated_line)
    with pytest.raises(ValueError, match="candidates: node_id a"):
        SingleNodeFirst().solve(order([("A", 1)], [node("a", 1, {"A": 1}), node("a", 2, {"A": 1})]))


@settings(max_examples=150, deadline=None)
@given(problems())
def test_greedy_plans_keep_every_rule(problem: SourcingProblem) -> None:
    assert_keeps_the_rules(problem, GreedyNearest().solve(problem))
    assert_keeps_the_rules(problem, SingleNodeFirst().solve(problem))
