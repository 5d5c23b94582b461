"""The hindsight lower bound: what sourcing every order could cost at best if all orders were known.

One linear program over the whole run, the LP relaxation of sourcing all orders jointly:

    minimise  sum f[o,n] y[o,n] + sum c[o,l,n] x[o,l,n] + P sum u[o,l] + S sum z[o]
    subject to  sum_n x[o,l,n] + u[o,l] = q[o,l]           every order line (demand)
                x[o,l,n] <= q[o,l] y[o,n]                  every line and node (a unit needs a shipment)
                sum_(o,l of sku s) x[o,l,n] <= b[n,s]       every node and SKU (starting stock)
                sum_(o on day d) y[o,n] <= K[n]             every capacity-limited node and day
                z[o] >= sum_n y[o,n] - 1                    every order (split penalty, when S > 0)
                0 <= y <= 1, x, u, z >= 0

with f, c the order's priced shipment and unit costs, P the unfilled and S the split penalty.
Every replay of the orders (any strategy, any order of decisions) is an integer solution of it,
so its optimum is a lower bound on any strategy's total cost.

Only the cheapest nodes of each line are in the first LP ("pruned candidates"). Pruning could
make the LP optimum exceed the true one, so the reported bound is not the LP value but a
Lagrangian bound: the LP's duals of the demand, stock, capacity and split rows price *every*
(order, node) pair, pruned or not, and

    L = sum pi q + sum lambda b + sum kappa K - sum rho + sum_(o,n) min(0, best use of (o,n)) + unfilled term

is a lower bound on the full LP for any such multipliers, hence on every strategy. Pairs that
price below zero are added and the LP solved again (column generation) until none does or the
time runs out; when none does, L equals the LP optimum over all candidates.

Exact for the linear cost form, whose prices do not depend on the stock left. Rate-table prices
pick a carrier service from what a node can ship, so there the bound prices each node as it
would be priced on the starting stock.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import highspy
import numpy as np
from numpy.typing import NDArray

from omniroute.simulation.runner import Scenario
from sourcing.optimizer import QuietHighs

INITIAL_NODES_PER_LINE = 3
# From scratch, or after many columns came in, HiGHS's interior point method (with crossover, which
# leaves a basis) is fastest; after a few, the simplex method goes on warm from the last basis.
WARM_START_SHARE = 0.02
MAX_ROUNDS = 30
COLUMNS_PER_ROUND = 200_000
NEGATIVE = -1e-7
# The bound is the LP optimum once L and the restricted LP's value agree to this relative gap.
CLOSED_GAP = 1e-6
# Float sums of ~1e5 terms: keep the bound a hair below the computed figure.
ROUNDING_GUARD = 1e-9


@dataclass(frozen=True)
class HindsightBound:
    value: float  # the lower bound (cents)
    lp_value: float  # the last restricted LP's optimum
    optimal: bool  # no pruned pair could lower the LP: value is the full LP's optimum
    rounds: int
    pairs_in_lp: int
    pairs_total: int
    seconds: float


@dataclass
class _Data:
    """Every (order, node) pair ("group") and (line, node) pair that could ever ship, as arrays."""

    line_qty: NDArray[np.float64]
    line_order: NDArray[np.int64]
    group_order: NDArray[np.int64]
    group_cost: NDArray[np.float64]
    group_cap_row: NDArray[np.int64]  # index into capacity keys, -1 = no limit
    pair_line: NDArray[np.int64]
    pair_group: NDArray[np.int64]
    pair_cost: NDArray[np.float64]
    pair_stock_row: NDArray[np.int64]
    stock: NDArray[np.float64]
    capacity: NDArray[np.float64]
    orders: int
    unfilled_penalty: float
    split_penalty: float


def hindsight_bound(
    scenario: Scenario, time_limit_s: float = 60.0, *, nodes_per_line: int = INITIAL_NODES_PER_LINE
) -> HindsightBound:
    """The bound for replaying `scenario`; at most about `time_limit_s` of solving. The first LP holds
    the `nodes_per_line` cheapest nodes of each line and those a greedy pass ships from."""
    started = time.monotonic()
    data = _collect(scenario)
    selected = _initial_groups(data, nodes_per_line)
    model = _Model(data)
    model.add(np.flatnonzero(selected))
    best, lp_value, rounds, optimal, solver = -math.inf, 0.0, 0, False, "ipm"
    while rounds < MAX_ROUNDS:
        left = time_limit_s - (time.monotonic() - started)
        if left <= 0:
            break
        rounds += 1
        lp_value, duals = model.solve(left, solver)
        value, group_values = _lagrangian(data, *duals)
        best = max(best, value)
        entering = np.flatnonzero((group_values < NEGATIVE) & ~selected)
        if entering.size == 0 or lp_value - value <= CLOSED_GAP * max(1.0, abs(lp_value)):
            optimal = True  # L reached the restricted LP's optimum: no pruned pair can lower it
            break
        worst_first = entering[np.argsort(group_values[entering])][:COLUMNS_PER_ROUND]
        solver = "ipm" if len(worst_first) > WARM_START_SHARE * selected.sum() else "simplex"
        selected[worst_first] = True
        model.add(worst_first)
    best = max(best, 0.0)  # costs are never negative
    guarded = best - ROUNDING_GUARD * abs(best)
    return HindsightBound(value=guarded, lp_value=lp_value, optimal=optimal, rounds=rounds,
                          pairs_in_lp=int(selected[data.pair_group].sum()), pairs_total=len(data.pair_group),
                          seconds=time.monotonic() - started)


def _collect(scenario: Scenario) -> _Data:
    capacity = {node.node_id: node.capacity for node in scenario.nodes}
    held: dict[str, dict[str, int]] = {}
    for (node_id, sku), units in scenario.inventory.items():
        if units > 0:
            held.setdefault(sku, {})[node_id] = units
    stock_rows: dict[tuple[str, str], int] = {}
    cap_rows: dict[tuple[str, int], int] = {}
    line_qty: list[float] = []
    line_order: list[int] = []
    group_order: list[int] = []
    group_cost: list[float] = []
    group_cap: list[int] = []
    pair_line: list[int] = []
    pair_group: list[int] = []
    pair_cost: list[float] = []
    pair_stock: list[int] = []
    unfilled_penalty = split_penalty = 0.0
    for o, order in enumerate(scenario.orders):
        atp: dict[str, dict[str, int]] = {}
        for sku in {line.sku for line in order.lines}:
            for node_id, units in held.get(sku, {}).items():
                atp.setdefault(node_id, {})[sku] = units
        problem = scenario.pricer.problem(order, atp, {})
        unfilled_penalty, split_penalty = problem.unfilled_penalty, problem.split_penalty
        first_line = len(line_qty)
        for line in problem.lines:
            line_qty.append(float(line.quantity))
            line_order.append(o)
        for candidate in problem.candidates:
            group = len(group_cost)
            group_order.append(o)
            group_cost.append(candidate.shipment_cost)
            daily = capacity.get(candidate.node_id)
            group_cap.append(cap_rows.setdefault((candidate.node_id, order.day), len(cap_rows))
                             if daily is not None else -1)
            for index, line in enumerate(problem.lines):
                if candidate.atp.get(line.sku, 0) > 0:
                    pair_line.append(first_line + index)
                    pair_group.append(group)
                    pair_cost.append(candidate.unit_cost.get(line.sku, 0.0))
                    pair_stock.append(stock_rows.setdefault((candidate.node_id, line.sku), len(stock_rows)))
    return _Data(
        line_qty=np.array(line_qty), line_order=np.array(line_order, dtype=np.int64),
        group_order=np.array(group_order, dtype=np.int64), group_cost=np.array(group_cost),
        group_cap_row=np.array(group_cap, dtype=np.int64),
        pair_line=np.array(pair_line, dtype=np.int64), pair_group=np.array(pair_group, dtype=np.int64),
        pair_cost=np.array(pair_cost), pair_stock_row=np.array(pair_stock, dtype=np.int64),
        stock=np.array([float(scenario.inventory[key]) for key in stock_rows]),
        capacity=np.array([float(capacity[node_id] or 0) for node_id, _ in cap_rows]),
        orders=len(scenario.orders), unfilled_penalty=unfilled_penalty, split_penalty=split_penalty,
    )


def _initial_groups(data: _Data, nodes_per_line: int) -> NDArray[np.bool_]:
    """A start that can fill what stock allows: per line the `nodes_per_line` cheapest nodes
    (unit + shipment cost), and the nodes a greedy pass over the orders (cheapest node with stock
    left first) ships each line from."""
    selected = np.zeros(len(data.group_cost), dtype=bool)
    if data.pair_line.size == 0:
        return selected
    cost = data.pair_cost + data.group_cost[data.pair_group]
    order = np.lexsort((cost, data.pair_line))
    lines = data.pair_line[order]
    first = np.searchsorted(lines, lines, side="left")
    rank = np.arange(len(lines)) - first
    selected[data.pair_group[order[rank < nodes_per_line]]] = True
    left = data.stock.copy()
    starts = np.searchsorted(lines, np.arange(len(data.line_qty) + 1))
    for line in range(len(data.line_qty)):
        needed = data.line_qty[line]
        for pair in order[starts[line]:starts[line + 1]]:
            if needed <= 0:
                break
            row = data.pair_stock_row[pair]
            take = min(needed, left[row])
            if take > 0:
                left[row] -= take
                needed -= take
                selected[data.pair_group[pair]] = True
    return selected


_Entries = tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]
Duals = tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]


class _Model:
    """The LP, grown a batch of groups at a time and re-solved warm.

    Rows: demand per line, stock per (node, sku), capacity per (node, day), split per order (when
    S > 0), then one link row per (line, node) pair of each group added. Columns: u per line, z per
    order (when S > 0), then per group added its y and the x of its pairs.
    """

    def __init__(self, data: _Data) -> None:
        self.data = data
        self.lines, self.orders = len(data.line_qty), data.orders
        self.split = data.split_penalty > 0
        self.stock_row = self.lines
        self.cap_row = self.stock_row + len(data.stock)
        self.split_row = self.cap_row + len(data.capacity)
        self.fixed_rows = self.split_row + (self.orders if self.split else 0)
        self.highs = QuietHighs()
        inf = highspy.kHighsInf
        z = self.orders if self.split else 0
        self.highs.addRows(
            self.fixed_rows,
            np.concatenate([data.line_qty, np.full(len(data.stock) + len(data.capacity), -inf), np.full(z, -1.0)]),
            np.concatenate([data.line_qty, data.stock, data.capacity, np.full(z, inf)]),
            0, np.zeros(1, dtype=np.int32), np.zeros(0, dtype=np.int32), np.zeros(0))
        # u (unfilled units) per line in its demand row; z (shipments beyond the first) per order in its split row
        self._add_columns(np.concatenate([np.full(self.lines, data.unfilled_penalty), np.full(z, data.split_penalty)]),
                          np.concatenate([data.line_qty, np.full(z, inf)]),
                          [(np.arange(self.lines), np.arange(self.lines), np.ones(self.lines)),
                           (self.lines + np.arange(z), self.split_row + np.arange(z), np.ones(z))])
        self.columns = self.lines + z

    def _add_columns(self, cost: NDArray[np.float64], upper: NDArray[np.float64], entries: list[_Entries]) -> None:
        """Columns with bounds [0, upper]; `entries` are (column offset, row, value) arrays."""
        col = np.concatenate([e[0] for e in entries])
        row = np.concatenate([e[1] for e in entries])
        val = np.concatenate([e[2] for e in entries])
        by_col = np.argsort(col, kind="stable")
        starts = np.searchsorted(col[by_col], np.arange(len(cost))).astype(np.int32)
        self.highs.addCols(len(cost), cost, np.zeros(len(cost)), upper, len(col), starts,
                           row[by_col].astype(np.int32), val[by_col])

    def add(self, groups: NDArray[np.int64]) -> None:
        """Add the y of `groups` and the x of all their pairs, with their link rows."""
        data = self.data
        pairs = np.flatnonzero(np.isin(data.pair_group, groups))
        y_col = np.full(len(data.group_cost), -1, dtype=np.int64)
        y_col[groups] = self.columns + np.arange(len(groups))
        x_col = self.columns + len(groups) + np.arange(len(pairs))
        capped = np.flatnonzero(data.group_cap_row[groups] >= 0)
        y_entries = [(capped, self.cap_row + data.group_cap_row[groups[capped]], np.ones(len(capped)))]
        if self.split:
            y_entries.append((np.arange(len(groups)), self.split_row + data.group_order[groups], -np.ones(len(groups))))
        self._add_columns(data.group_cost[groups], np.ones(len(groups)), y_entries)
        ones = np.ones(len(pairs))
        self._add_columns(data.pair_cost[pairs], data.line_qty[data.pair_line[pairs]], [
            (np.arange(len(pairs)), data.pair_line[pairs], ones),
            (np.arange(len(pairs)), self.stock_row + data.pair_stock_row[pairs], ones)])
        # link rows: x - q y <= 0
        index = np.empty(2 * len(pairs), dtype=np.int32)
        index[0::2] = x_col
        index[1::2] = y_col[data.pair_group[pairs]]
        value = np.empty(2 * len(pairs))
        value[0::2] = 1.0
        value[1::2] = -data.line_qty[data.pair_line[pairs]]
        self.highs.addRows(len(pairs), np.full(len(pairs), -highspy.kHighsInf), np.zeros(len(pairs)), len(index),
                           (2 * np.arange(len(pairs))).astype(np.int32), index, value)
        self.columns += len(groups) + len(pairs)

    def solve(self, time_limit_s: float, solver: str) -> tuple[float, Duals]:
        """(objective, duals of the demand, stock, capacity and split rows); zeros when HiGHS has none."""
        self.highs.setOptionValue("time_limit", max(0.1, time_limit_s))
        self.highs.setOptionValue("solver", solver)
        self.highs.run()
        solution = self.highs.getSolution()
        value = float(self.highs.getInfo().objective_function_value)
        if not solution.dual_valid:
            return value, (np.zeros(self.lines), np.zeros(len(self.data.stock)), np.zeros(len(self.data.capacity)),
                           np.zeros(self.orders))
        dual = np.array(solution.row_dual)
        split = dual[self.split_row:self.fixed_rows] if self.split else np.zeros(self.orders)
        return value, (dual[:self.lines], dual[self.stock_row:self.cap_row], dual[self.cap_row:self.split_row], split)


def _lagrangian(
    data: _Data, demand: NDArray[np.float64], stock: NDArray[np.float64], capacity: NDArray[np.float64],
    split: NDArray[np.float64],
) -> tuple[float, NDArray[np.float64]]:
    """The Lagrangian bound for these multipliers (in HiGHS's signs, clipped to the valid side), and
    each group's best value (negative: the group would lower the LP)."""
    stock = np.minimum(stock, 0.0)  # <= rows
    capacity = np.minimum(capacity, 0.0)
    split = np.clip(split, 0.0, data.split_penalty)  # >= rows; above S, z would pay
    pair_reduced = data.pair_cost - demand[data.pair_line] - stock[data.pair_stock_row]
    gain = np.bincount(data.pair_group, weights=data.line_qty[data.pair_line] * np.minimum(0.0, pair_reduced),
                       minlength=len(data.group_cost))
    cap = np.append(capacity, 0.0)[data.group_cap_row]  # row -1: the appended zero
    group_reduced = data.group_cost - cap + split[data.group_order]
    group_values = np.minimum(0.0, group_reduced + gain)
    unfilled = float(np.sum(data.line_qty * np.minimum(0.0, data.unfilled_penalty - demand)))
    constant = (float(demand @ data.line_qty) + float(stock @ data.stock) + float(capacity @ data.capacity)
                - float(split.sum()))
    return constant + float(group_values.sum()) + unfilled, group_values
