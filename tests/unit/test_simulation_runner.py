"""Replays on hand-checkable networks: known decisions, stock never below zero, costs that add up, and the report.

The 2-node network: `near` at (0, 0) and `far` at (0, 10), about 1,112 km apart. The cost is 500 per
shipment and 100 per unit whatever the distance, 10,000 per unit nobody ships, so every figure
can be added up by hand.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from models.address import GeoPoint
from models.costs import LinearCostModel
from omniroute.simulation.bound import hindsight_bound
from omniroute.simulation.forecast import ObservedDemand, region_of
from omniroute.simulation.inputs import DemandRate, SimLine, SimNode, SimOrder
from omniroute.simulation.pricing import LinearPricer
from omniroute.simulation.report import write_report
from omniroute.simulation.runner import RunOptions, Scenario, SimulationError, simulate
from sourcing.geo import haversine_km
from sourcing.greedy import GreedyNearest
from sourcing.problem import Assignment, Solution, SourcingProblem, objective_of

NEAR = GeoPoint(latitude=0.0, longitude=0.0)
FAR = GeoPoint(latitude=0.0, longitude=10.0)
BY_NEAR = GeoPoint(latitude=0.0, longitude=0.5)
BY_FAR = GeoPoint(latitude=0.0, longitude=9.5)
FLAT = LinearCostModel(fixed_per_shipment_cents=500, per_unit_cents=100, per_unit_mile_cents=0,
                       unfilled_penalty_cents=10_000)


def two_nodes(capacity: int | None = None) -> list[SimNode]:
    return [SimNode(node_id="near", point=NEAR, capacity=capacity), SimNode(node_id="far", point=FAR)]


def order(order_id: str, where: GeoPoint, *lines: tuple[str, int], day: int = 0) -> SimOrder:
    return SimOrder(order_id=order_id, destination=where, day=day,
                    lines=tuple(SimLine(sku=sku, quantity=quantity) for sku, quantity in lines))


def scenario(orders: list[SimOrder], stock: dict[tuple[str, str], int], *, capacity: int | None = None,
             cost: LinearCostModel = FLAT, demand: list[DemandRate] | None = None) -> Scenario:
    nodes = two_nodes(capacity)
    return Scenario(nodes=nodes, inventory=stock, orders=orders, pricer=LinearPricer(cost, nodes), demand=demand)


STOCK = {("near", "X"): 2, ("near", "Y"): 1, ("far", "X"): 1}
ORDERS = [order("o1", BY_NEAR, ("X", 1), ("Y", 1)), order("o2", BY_NEAR, ("X", 2)), order("o3", BY_FAR, ("X", 1))]


def test_greedy_nearest_replay_takes_the_known_decisions_and_its_costs_add_up() -> None:
    (run,) = simulate(scenario(ORDERS, STOCK), [GreedyNearest()])

    o1, o2, o3 = run.records
    # o1: both lines from near (one shipment). o2: near has 1 X left, so 1 from near and 1 from far.
    # o3: no X anywhere: unfilled.
    assert [(d.sku, d.quantity, d.node) for d in o1.lines] == [("X", 1, "near"), ("Y", 1, "near")]
    assert [(d.quantity, d.node) for d in o2.lines] == [(1, "far"), (1, "near")]
    assert [(d.quantity, d.node) for d in o3.lines] == [(1, None)]
    assert [r.cost for r in run.records] == [500 + 2 * 100, 2 * 500 + 2 * 100, 10_000]
    assert run.total_cost == 11_900
    assert [r.shipments for r in run.records] == [1, 2, 0] and run.split_rate == pytest.approx(1 / 3)
    assert run.units_unfilled == 1 and [r.promise_kept for r in run.records] == [True, True, False]
    assert run.node_load() == {"near": 2, "far": 1}
    assert run.stock_left == {("near", "X"): 0, ("near", "Y"): 0, ("far", "X"): 0}
    assert o2.distance_km == pytest.approx(haversine_km(BY_NEAR, NEAR) + haversine_km(BY_NEAR, FAR), abs=0.01)


def test_each_strategy_replays_on_its_own_copy_of_the_stock() -> None:
    class Renamed(GreedyNearest):
        name = "greedy-again"

    stock = dict(STOCK)
    first, second = simulate(scenario(ORDERS, stock), [GreedyNearest(), Renamed()])

    assert [r.cost for r in first.records] == [r.cost for r in second.records]
    assert stock == STOCK


class TakesFromTheFirstCandidate:
    """Ships every line in full from the first candidate, stock or not: an answer the runner must refuse."""

    name = "careless"

    def solve(self, problem: SourcingProblem) -> Solution:
        node = problem.candidates[0].node_id
        assignments = [Assignment(line_no=line.line_no, sku=line.sku, node_id=node, quantity=line.quantity)
                       for line in problem.lines]
        return Solution(assignments=assignments, objective=objective_of(problem, assignments, {}), method="test")


def test_an_answer_that_takes_more_than_the_stock_stops_the_replay() -> None:
    orders = [order("o1", BY_NEAR, ("X", 2)), order("o2", BY_NEAR, ("X", 2))]

    with pytest.raises(SimulationError, match=r"careless: order o2: takes 2 of X at far, which has 1"):
        simulate(scenario(orders, {("near", "X"): 2, ("far", "X"): 1}), [TakesFromTheFirstCandidate()])


def test_a_nodes_daily_capacity_sends_later_orders_of_the_day_elsewhere_until_the_next_day() -> None:
    orders = [order("o1", BY_NEAR, ("X", 1)), order("o2", BY_NEAR, ("X", 1)),
              order("o3", BY_NEAR, ("X", 1), day=1)]

    (run,) = simulate(scenario(orders, {("near", "X"): 5, ("far", "X"): 5}, capacity=1), [GreedyNearest()])

    assert [r.nodes for r in run.records] == [("near",), ("far",), ("near",)]


def test_orders_must_come_in_arrival_order() -> None:
    with pytest.raises(SimulationError, match="o2 .day 0. arrives after order o1 .day 1."):
        scenario([order("o1", BY_NEAR, ("X", 1), day=1), order("o2", BY_NEAR, ("X", 1))], STOCK)


class RecordingLookAhead(GreedyNearest):
    """Greedy, remembering every set of prices it was given."""

    name = "recording-look-ahead"

    def __init__(self) -> None:
        self.prices: list[dict[tuple[str, str], float]] = []

    def set_prices(self, prices: dict[tuple[str, str], float]) -> None:
        self.prices.append(prices)


def test_the_look_ahead_is_repriced_every_n_orders_from_demand_seen_so_far_only() -> None:
    calls: list[tuple[dict[tuple[str, str], int], dict[tuple[str, str], float]]] = []

    def shadow_prices(supply: dict[tuple[str, str], int], demand: dict[tuple[str, str], float],
                      unit_cost: dict[tuple[str, str], float], penalty: float) -> dict[tuple[str, str], float]:
        calls.append((dict(supply), dict(demand)))
        # A forecast unit nobody can serve costs the dearest lane (500 + 100), not the 10,000 unfilled penalty.
        assert penalty == 600 and set(unit_cost) == {(node, region) for node, _ in supply for region, _ in demand}
        return {key: 1.0 for key in supply}

    orders = [order("o1", BY_NEAR, ("X", 1)), order("o2", BY_NEAR, ("X", 1)),
              order("o3", BY_FAR, ("Z", 3)), order("o4", BY_FAR, ("X", 1))]
    strategy = RecordingLookAhead()
    stock = {("near", "X"): 5, ("far", "X"): 5, ("far", "Z"): 5}

    (run,) = simulate(scenario(orders, stock), [strategy], RunOptions(reprice_every=2, shadow_prices=shadow_prices))

    # Before o1 nothing has been seen: no forecast, no prices. Before o3: two orders of one X each to the
    # region near `near`, scaled to the two orders left; Z (first ordered by o3) is not foreseen.
    assert run.repricings == 2 and strategy.prices[0] == {}
    ((supply, demand),) = calls
    assert demand == {(region_of(BY_NEAR), "X"): pytest.approx(2.0)}
    assert supply == {("near", "X"): 3, ("far", "X"): 5}
    assert strategy.prices[1] == {("near", "X"): 1.0, ("far", "X"): 1.0}


def test_between_full_repricings_only_the_skus_ordered_since_get_new_prices() -> None:
    asked: list[set[str]] = []

    def shadow_prices(supply: dict[tuple[str, str], int], demand: dict[tuple[str, str], float],
                      unit_cost: dict[tuple[str, str], float], penalty: float) -> dict[tuple[str, str], float]:
        asked.append({sku for _, sku in supply})
        return dict.fromkeys(supply, float(len(asked)))

    orders = [order("o1", BY_NEAR, ("X", 1)), order("o2", BY_NEAR, ("Y", 1)), order("o3", BY_NEAR, ("X", 1)),
              order("o4", BY_NEAR, ("X", 1))]
    stock = {("near", "X"): 5, ("far", "X"): 5, ("near", "Y"): 5, ("far", "Y"): 5}
    strategy = RecordingLookAhead()

    simulate(scenario(orders, stock), [strategy],
             RunOptions(reprice_every=1, reprice_all_every=3, shadow_prices=shadow_prices))

    # Before o1: nothing seen, no prices. Before o2: X (ordered by o1) only. Before o3: Y only, X keeps its
    # price. Before o4: the full repricing, both SKUs.
    assert asked == [{"X"}, {"Y"}, {"X", "Y"}]
    assert strategy.prices == [
        {},
        {("near", "X"): 1.0, ("far", "X"): 1.0},
        {("near", "X"): 1.0, ("far", "X"): 1.0, ("near", "Y"): 2.0, ("far", "Y"): 2.0},
        {("near", "X"): 3.0, ("far", "X"): 3.0, ("near", "Y"): 3.0, ("far", "Y"): 3.0},
    ]


def test_reprice_all_every_must_be_positive() -> None:
    with pytest.raises(ValueError, match="reprice_all_every"):
        RunOptions(reprice_all_every=0)


def test_shadow_prices_asked_sku_by_sku_equal_one_call_over_every_sku() -> None:
    orders = [order(f"o{n}", where, *lines) for n, (where, lines) in enumerate([
        (BY_NEAR, [("X", 1), ("Y", 1)]), (BY_NEAR, [("X", 2)]), (BY_FAR, [("Y", 1)]), (BY_NEAR, [("X", 1)]),
        (BY_NEAR, [("X", 1), ("Y", 1)]), (BY_FAR, [("Y", 2)])])]
    stock = {("near", "X"): 4, ("far", "X"): 4, ("near", "Y"): 2, ("far", "Y"): 3}
    cost = LinearCostModel(unfilled_penalty_cents=10_000)
    together, apart = RecordingLookAhead(), RecordingLookAhead()

    simulate(scenario(orders, stock, cost=cost), [together], RunOptions(reprice_every=3, shadow_batch_pairs=10**9))
    simulate(scenario(orders, stock, cost=cost), [apart], RunOptions(reprice_every=3, shadow_batch_pairs=1))

    assert len(together.prices) == 2 and any(price > 0 for price in together.prices[1].values())
    assert apart.prices == together.prices


def test_a_demand_file_forecasts_from_the_start() -> None:
    seen: list[dict[tuple[str, str], float]] = []

    def shadow_prices(supply: dict[tuple[str, str], int], demand: dict[tuple[str, str], float],
                      unit_cost: dict[tuple[str, str], float], penalty: float) -> dict[tuple[str, str], float]:
        seen.append(demand)
        return {}

    rates = [DemandRate(point=BY_FAR, sku="X", units_per_order=0.5)]
    simulate(scenario(ORDERS, {("near", "X"): 5, ("near", "Y"): 1}, demand=rates), [RecordingLookAhead()],
             RunOptions(reprice_every=2, shadow_prices=shadow_prices))

    assert seen == [{(region_of(BY_FAR), "X"): 1.5}, {(region_of(BY_FAR), "X"): 0.5}]


def test_the_observed_forecast_is_the_product_of_the_regional_and_sku_mixes() -> None:
    forecast = ObservedDemand()
    forecast.observe(order("a", BY_NEAR, ("X", 2)))
    forecast.observe(order("b", BY_FAR, ("Y", 1)))

    assert forecast.remaining(4) == {
        (region_of(BY_NEAR), "X"): 2.0, (region_of(BY_NEAR), "Y"): 1.0,
        (region_of(BY_FAR), "X"): 2.0, (region_of(BY_FAR), "Y"): 1.0,
    }


def test_a_replay_past_its_time_limit_stops_and_says_so() -> None:
    (run,) = simulate(scenario(ORDERS, STOCK), [GreedyNearest()], RunOptions(time_limit_s=0.0))

    assert not run.complete and run.records == []


def test_the_hindsight_bound_of_the_two_node_network_is_the_hand_computed_lp_optimum() -> None:
    # o1 ships X and Y from near (700); o2 takes 1 X from each node, half a shipment each in the LP (500 + 200);
    # o3's X is the unit nobody can have (10,000).
    bound = hindsight_bound(scenario(ORDERS, STOCK))

    assert bound.value == pytest.approx(11_400, rel=1e-8) and bound.value <= 11_400
    assert bound.optimal


def test_the_report_holds_the_plots_the_table_and_decisions_that_price_again_to_the_same_cost(tmp_path: Path) -> None:
    cost = LinearCostModel(fixed_per_shipment_cents=875.9, per_unit_cents=42.3, per_unit_mile_cents=0.0541,
                           unfilled_penalty_cents=10_000, split_penalty_cents=25)
    the_scenario = scenario(ORDERS, STOCK, cost=cost)
    runs = simulate(the_scenario, [GreedyNearest()])

    files = write_report(runs, tmp_path, bound=hindsight_bound(the_scenario), notes=["three orders"])

    page = files.html.read_text(encoding="utf-8")
    assert page.count("<svg") == 4
    for caption in ("Total cost per strategy", "Split rate", "Units nobody shipped", "Load per node"):
        assert caption in page
    assert "greedy-nearest" in page and "Hindsight lower bound" in page and "three orders" in page
    summary = files.text.read_text(encoding="utf-8")
    assert "greedy-nearest" in summary and "33.3%" in summary
    rows = [json.loads(line) for line in files.decisions["greedy-nearest"].read_text(encoding="utf-8").splitlines()]
    assert [row["order_id"] for row in rows] == ["o1", "o2", "o3"]
    destinations = {o.order_id: o.destination for o in ORDERS}
    points = {"near": NEAR, "far": FAR}
    total = 0.0
    for row in rows:
        nodes = {line["node"] for line in row["lines"] if line["node"] is not None}
        price = cost.fixed_per_shipment_cents * len(nodes) + cost.split_penalty_cents * max(0, len(nodes) - 1)
        for line in row["lines"]:
            if line["node"] is None:
                price += cost.unfilled_penalty_cents * line["quantity"]
            else:
                miles = haversine_km(points[line["node"]], destinations[row["order_id"]]) / 1.609344
                price += line["quantity"] * (cost.per_unit_cents + cost.per_unit_mile_cents * miles)
        assert row["cost"] == pytest.approx(price, rel=1e-9)
        total += price
    assert total == pytest.approx(runs[0].total_cost, rel=1e-9)
