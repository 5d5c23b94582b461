"""Wave planning with shared stock and capacity, and merging a plan's shipments before release."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from models.shipment import ShipmentLine
from sourcing.batch import shared_stock, solve_sequentially, solve_wave
from sourcing.problem import PricedCandidate, SourcingProblem
from tests.fixtures.sourcing_problems import assert_keeps_the_rules


def node(node_id: str, atp: dict[str, int], *, ship: float, unit: float = 10.0,
         capacity: int | None = None) -> PricedCandidate:
    return PricedCandidate(node_id=node_id, service="ground", distance_km=100, shipment_cost=ship,
                           unit_cost={sku: unit for sku in atp}, atp=atp, capacity_left=capacity)


def order(order_id: str, lines: list[tuple[str, int]], candidates: list[PricedCandidate],
          **rules: object) -> SourcingProblem:
    return SourcingProblem.model_validate({
        "order_id": order_id,
        "lines": [ShipmentLine(line_no=i + 1, sku=sku, quantity=qty) for i, (sku, qty) in enumerate(lines)],
        "candidates": candidates,
        **rules,
    })


def contested_wave() -> list[SourcingProblem]:
    """The hub holds one unit both orders want; the first order has a close second choice, the second none."""
    first = order("o-1", [("S", 1)], [node("hub", {"S": 1}, ship=300), node("alt", {"S": 1}, ship=400)])
    second = order("o-2", [("S", 1)], [node("hub", {"S": 1}, ship=300), node("alt", {"S": 1}, ship=2000)])
    return [first, second]


def test_the_wave_gives_the_contested_unit_to_the_order_that_needs_it_most() -> None:
    one_at_a_time = solve_sequentially(contested_wave())
    assert [s.nodes() for s in one_at_a_time] == [["hub"], ["alt"]]
    assert sum(s.objective for s in one_at_a_time) == 310 + 2010
    wave = solve_wave(contested_wave())
    assert [s.nodes() for s in wave] == [["alt"], ["hub"]]
    assert [s.objective for s in wave] == [410, 310]
    assert {s.method for s in wave} == {"wave"} and {s.status for s in wave} == {"optimal"}


def test_the_wave_shares_a_nodes_last_shipment_slot() -> None:
    # The DC can take one more shipment today; moving the second order to the store costs 600 more, the first 200.
    first = order("o-1", [("S", 1)], [node("dc", {"S": 5}, ship=300, capacity=1), node("store", {"S": 5}, ship=500)])
    second = order("o-2", [("S", 1)], [node("dc", {"S": 5}, ship=300, capacity=1), node("store", {"S": 5}, ship=900)])
    wave = solve_wave([first, second])
    assert [s.nodes() for s in wave] == [["store"], ["dc"]]
    assert [s.nodes() for s in solve_sequentially([first, second])] == [["dc"], ["store"]]


def test_each_order_keeps_to_the_stock_it_was_shown_while_the_pool_is_the_largest_figure() -> None:
    narrow = order("channel", [("S", 3)], [node("n", {"S": 1}, ship=100)], unfilled_penalty=1000)
    wide = order("web", [("S", 2)], [node("n", {"S": 5}, ship=100)], unfilled_penalty=1000)
    stock, capacity = shared_stock([narrow, wide])
    assert stock == {("n", "S"): 5} and capacity == {"n": None}
    wave = solve_wave([narrow, wide])
    assert [(s.assignments[0].quantity, s.unfilled) for s in wave] == [(1, {1: 2}), (2, {})]


@st.composite
def waves(draw: st.DrawFn) -> list[SourcingProblem]:
    def candidate(i: int) -> PricedCandidate:
        return node(f"n{i}", {s: draw(st.integers(0, 3)) for s in "AB"}, ship=draw(st.integers(100, 900)),
                    unit=draw(st.integers(0, 100)), capacity=draw(st.sampled_from([None, 1, 2])))
    return [
        order(f"o-{k}", draw(st.lists(st.tuples(st.sampled_from("AB"), st.integers(1, 3)), min_size=1, max_size=2)),
              [candidate(i) for i in range(3)], split_penalty=draw(st.sampled_from([0, 100])))
        for k in range(draw(st.integers(2, 3)))
    ]


@settings(max_examples=40, deadline=None)
@given(waves())
def test_a_wave_plan_keeps_every_rule_shares_the_pool_and_never_costs_more_than_one_at_a_time(
    problems: list[SourcingProblem],
) -> None:
    wave = solve_wave(problems)
    stock, capacity = shared_stock(problems)
    used: dict[tuple[str, str], int] = {}
    shipments: dict[str, int] = {}
    for problem, plan in zip(problems, wave, strict=True):
        assert_keeps_the_rules(problem, plan)
        for a in plan.assignments:
            used[(a.node_id, a.sku)] = used.get((a.node_id, a.sku), 0) + a.quantity
        for node_id in plan.nodes():
            shipments[node_id] = shipments.get(node_id, 0) + 1
    assert all(units <= stock[key] for key, units in used.items())
    assert all(count <= (capacity[n] or count) for n, count in shipments.items())
    sequential = sum(s.objective for s in solve_sequentially(problems))
    assert sum(s.objective for s in wave) <= sequential * (1 + 1e-4) + 1e-6
