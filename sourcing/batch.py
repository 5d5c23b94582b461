"""Plan a wave of orders together.

`solve_wave` puts every order's model (see `sourcing.optimizer`) into one MILP whose stock and
shipment capacity are shared: two orders that both want a node's last unit, or its last shipment
slot today, are weighed against each other instead of first come, first served. Release waves
(`sourcing.waves`) use it to re-plan orders before their labels are bought, which also merges a
split order when the units it holds make one node enough (Xu, Allgor & Graves, "Benefits of
reevaluating real-time order fulfillment decisions", M&SOM 11(2), 2009).
"""

from __future__ import annotations

from collections.abc import Sequence
from time import perf_counter

from sourcing.greedy import check_problem, make_solution
from sourcing.optimizer import MilpStrategy, MipModel, OrderBlock
from sourcing.problem import PricedCandidate, Solution, SourcingProblem, Strategy, objective_of

# Waves are larger models than one order: stop within 0.01% of the optimum, HiGHS's default.
_WAVE_GAP = 1e-4


def shared_stock(problems: Sequence[SourcingProblem]) -> tuple[dict[tuple[str, str], int], dict[str, int | None]]:
    """The wave's pools: units per (node, sku) and shipments per node, each the largest any order states.

    Orders are sourced from snapshots taken at slightly different times; the largest figure is the
    freshest view of the most the node has. A capacity of None (no limit) from any order wins. Each
    order still uses no more than its own problem states (a channel may see less than the node has).
    """
    stock: dict[tuple[str, str], int] = {}
    capacity: dict[str, int | None] = {}
    for problem in problems:
        for c in problem.candidates:
            for sku, units in c.atp.items():
                stock[(c.node_id, sku)] = max(units, stock.get((c.node_id, sku), 0))
            before = capacity.get(c.node_id, 0)
            capacity[c.node_id] = None if before is None or c.capacity_left is None else max(before, c.capacity_left)
    return stock, capacity


def solve_wave(problems: list[SourcingProblem], *, time_limit_s: float = 1.0) -> list[Solution]:
    """One plan per order (same order as `problems`), minimising the wave's total cost.

    Stock and capacity are pooled as `shared_stock` says. If HiGHS finds no plan within the time
    limit, the orders are planned one at a time in the given order (`solve_sequentially`).
    """
    started = perf_counter()
    for problem in problems:
        check_problem(problem)
    stock, capacity = shared_stock(problems)
    model = MipModel()
    blocks = [OrderBlock.add(model, problem) for problem in problems]
    for (node_id, sku), units in stock.items():
        cols = [(col, 1.0) for block in blocks for (i, n), col in block.x.items()
                if n == node_id and block.problem.lines[i].sku == sku]
        if sum(model.upper[col] for col, _ in cols) > units:
            model.row(cols, upper=units)
    for node_id, slots in capacity.items():
        ships = [(block.y[node_id], 1.0) for block in blocks if node_id in block.y]
        if slots is not None and len(ships) > slots:
            model.row(ships, upper=slots)
    outcome = model.solve(time_limit_s, gap=_WAVE_GAP)
    if outcome.values is None:
        why = f"wave solver stopped ({outcome.status}): planned one order at a time"
        return [s.model_copy(update={"status": why}) for s in solve_sequentially(problems)]
    status = "optimal" if outcome.optimal else f"{outcome.status}: best wave plan found, not proven optimal"
    values = outcome.values
    return [make_solution(block.problem, block.assignments(values), method="wave", status=status, started=started)
            for block in blocks]


def solve_sequentially(problems: Sequence[SourcingProblem], strategy: Strategy | None = None) -> list[Solution]:
    """Each order in turn with `strategy` (the MILP by default), on the stock and capacity earlier ones left."""
    strategy = strategy or MilpStrategy()
    stock, capacity = shared_stock(problems)
    solutions = []
    for problem in problems:
        left = [_within(c, stock, capacity) for c in problem.candidates]
        solution = strategy.solve(problem.model_copy(update={"candidates": left}))
        for a in solution.assignments:
            stock[(a.node_id, a.sku)] -= a.quantity
        for node_id in solution.nodes():
            slots = capacity.get(node_id)
            capacity[node_id] = None if slots is None else slots - 1
        solutions.append(solution.model_copy(update={
            "objective": objective_of(problem, solution.assignments, solution.unfilled),
        }))
    return solutions


def _within(c: PricedCandidate, stock: dict[tuple[str, str], int], capacity: dict[str, int | None]) -> PricedCandidate:
    atp = {sku: max(0, min(units, stock[(c.node_id, sku)])) for sku, units in c.atp.items()}
    slots, own = capacity.get(c.node_id), c.capacity_left
    left = own if slots is None else max(0, slots if own is None else min(slots, own))
    return c.model_copy(update={"atp": atp, "capacity_left": left})
