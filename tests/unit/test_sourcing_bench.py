"""The sourcing benchmark: its seeded network, the hindsight bound as a true lower bound, quick mode, the Markdown."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import pytest
from rich.console import Console
from rich.progress import Progress

from models.costs import LinearCostModel
from omniroute.bench.kit.sourcing import (
    LatencyFigures,
    SourcingResults,
    SourcingSizes,
    StrategyFigures,
    latency_problems,
    render_sourcing,
    run_sourcing_bench,
)
from omniroute.simulation.bound import HindsightBound, hindsight_bound
from omniroute.simulation.inputs import SimNode
from omniroute.simulation.network_gen import STOCK_COVER, us_metros, us_network
from omniroute.simulation.pricing import LinearPricer
from omniroute.simulation.runner import Scenario, simulate
from sourcing.greedy import GreedyNearest, SingleNodeFirst
from sourcing.optimizer import MilpStrategy


def quiet_progress() -> Progress:
    return Progress(console=Console(quiet=True))


def test_the_network_is_the_same_for_the_same_seed_and_differs_for_another() -> None:
    first = us_network(nodes=10, skus=50, orders=200, seed=3)

    assert us_network(nodes=10, skus=50, orders=200, seed=3) == first
    assert us_network(nodes=10, skus=50, orders=200, seed=4).orders != first.orders


def test_the_network_sits_at_us_metros_with_skewed_demand_and_just_enough_stock() -> None:
    network = us_network(nodes=20, skus=300, orders=2000, max_lines=5, seed=1)

    metros = {place.point for place in us_metros()}
    assert len(network.nodes) == 20 and all(node.point in metros for node in network.nodes)
    assert all(order.destination in metros for order in network.orders)
    assert all(1 <= len(order.lines) <= 5 and len({line.sku for line in order.lines}) == len(order.lines)
               for order in network.orders)
    demand: Counter[str] = Counter()
    for order in network.orders:
        for line in order.lines:
            demand[line.sku] += line.quantity
    stock: Counter[str] = Counter()
    holders: Counter[str] = Counter()
    for (_, sku), units in network.inventory.items():
        stock[sku] += units
        holders[sku] += 1
    assert all(demand[sku] <= stock[sku] <= STOCK_COVER * demand[sku] + 1 for sku in demand)
    best_seller, *_ = (sku for sku, _ in demand.most_common())
    tail = [sku for sku in network.skus if 0 < demand[sku] <= 3]
    assert demand[best_seller] > 20 * demand[tail[0]]
    assert holders[best_seller] > 10 and max(holders[sku] for sku in tail) == 1


def small_scenario(*, capacity: int | None, split_penalty: float) -> Scenario:
    network = us_network(nodes=8, skus=40, orders=160, max_lines=4, seed=11)
    nodes = [SimNode(node_id=n.node_id, point=n.point, capacity=capacity) for n in network.nodes]
    orders = [order.model_copy(update={"day": index // 40}) for index, order in enumerate(network.orders)]
    pricer = LinearPricer(LinearCostModel(split_penalty_cents=split_penalty), nodes)
    return Scenario(nodes=nodes, inventory=network.inventory, orders=orders, pricer=pricer)


@pytest.mark.parametrize(("capacity", "split_penalty"), [(None, 0.0), (6, 150.0)])
def test_the_bound_is_below_every_strategy_and_does_not_depend_on_the_pruning(
    capacity: int | None, split_penalty: float
) -> None:
    scenario = small_scenario(capacity=capacity, split_penalty=split_penalty)

    pruned = hindsight_bound(scenario, nodes_per_line=0)
    full = hindsight_bound(scenario, nodes_per_line=len(scenario.nodes))
    runs = simulate(scenario, [MilpStrategy(), GreedyNearest(), SingleNodeFirst()])

    assert pruned.optimal and full.optimal and pruned.pairs_in_lp < pruned.pairs_total
    assert pruned.value == pytest.approx(full.value, rel=1e-6)
    assert all(run.complete and run.total_cost >= max(pruned.value, full.value) for run in runs)


def test_quick_mode_replays_every_strategy_at_or_above_the_hindsight_bound() -> None:
    sizes = replace(SourcingSizes.for_mode(True), latency_problems=10)

    with quiet_progress() as progress:
        results = run_sourcing_bench(sizes, progress)

    assert results.bound.optimal and results.bound.value > 0
    assert [f.name for f in results.strategies] == ["look-ahead", "optimal", "greedy-nearest", "single-node-first"]
    for figures in results.strategies:
        ratio = results.ratio(figures)
        assert figures.complete and ratio is not None and ratio >= 1.0
        assert figures.orders == sizes.orders and figures.p99_ms >= figures.p50_ms > 0
        assert figures.units_unfilled == 0  # the stock covers every unit; no strategy may leave one behind
    look_ahead = results.strategies[0]
    assert look_ahead.look_ahead and look_ahead.repricing_s > 0
    gap = results.gap_closed()
    assert gap is not None and gap <= 1.0
    assert [f.problems for f in results.latency] == [10, 10, 10, 10]
    text = render_sourcing(results, section=5)
    assert "## 5. Sourcing strategies against the hindsight lower bound" in text
    assert "## 6. Sourcing decision latency, 5 lines × 50 candidates" in text


def test_latency_problems_have_five_lines_and_fifty_candidates() -> None:
    problems, nodes = latency_problems(3, seed=1)

    assert len(nodes) == 50
    assert all(len(p.lines) == 5 and len(p.candidates) == 50 for p in problems)


def figures(name: str, cost: float, *, look_ahead: bool = False, orders: int = 100) -> StrategyFigures:
    return StrategyFigures(name=name, look_ahead=look_ahead, orders=orders, orders_total=100, total_cost=cost,
                           split_rate=0.25, promise_kept_rate=0.9, units_unfilled=0, p50_ms=1.5, p99_ms=9.25,
                           decisions_per_second=400.0, repricing_s=0.0)


def test_the_markdown_gives_ratios_to_the_bound_and_the_share_of_the_gap_look_ahead_closed() -> None:
    results = SourcingResults(
        sizes=SourcingSizes.for_mode(False),
        strategies=[figures("look-ahead", 1_080_000, look_ahead=True), figures("optimal", 1_100_000),
                    figures("greedy-nearest", 1_300_000, orders=60)],
        bound=HindsightBound(value=1_000_000, lp_value=1_000_000, optimal=True, rounds=3, pairs_in_lp=10,
                             pairs_total=20, seconds=1.0),
        latency=[LatencyFigures("optimal", 500, 2.0, 8.0)],
        method=["Seeded."],
    )

    text = render_sourcing(results, section=5)

    assert results.gap_closed() == pytest.approx(0.2)
    assert "| look-ahead | 10,800 | 1.080 | 25.0% | 90.0% | 0 | 1.50 ms | 9.25 ms | 400 |" in text
    assert "| optimal | 11,000 | 1.100 |" in text
    assert "| greedy-nearest (stopped after 60 of 100 orders) | 13,000 | n/a |" in text
    assert "| hindsight lower bound (LP) | 10,000 | 1.000 |" in text
    assert "closed 20% of the gap" in text and "about 36%" in text
    assert "Shadow prices for look-ahead took 0.0 s over the replay" in text
    assert "| optimal | 500 | 2.00 ms | 8.00 ms | 500 |" in text
    assert "- Seeded." in text
