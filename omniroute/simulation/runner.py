"""Replay orders in arrival order through sourcing strategies, on a copy of the starting stock.

Each strategy gets its own copy of the inventory, decremented by every decision it makes, and its
own count of shipments per node per simulated day (a node's capacity is per day; the count starts
again when an order of a later day arrives). Live stock is never touched. Per order, the pricer
builds a `SourcingProblem` from what is left, the strategy answers it, and the runner checks the
answer (known lines and nodes, no more than the stock, capacity left) before applying it: an
answer that breaks a rule stops the run with `SimulationError`, so stock can never go negative.

The cost of an order is the problem's own `objective_of` the answer, on the problem as priced
(without any look-ahead shadow price): shipments, units, split penalty and unfilled penalty.

A strategy with `set_prices` (the look-ahead) gets shadow prices per (node, SKU) before the first
order and then every `reprice_every` orders (of every SKU every `reprice_all_every` orders, in between
of the SKUs ordered since the last repricing), computed from its current stock and the forecast of
the demand still to come (see `omniroute.simulation.forecast`: from a demand file, or from the
orders already decided; never from orders not yet replayed). In that transportation LP a forecast
unit the stock cannot serve costs the dearest lane's cost, not the unfilled penalty: the forecast is
uncertain and such demand can still be served later (replenishment), while the order in hand is
certain. Priced at the penalty, a forecast that overshoots a SKU's last units (as it often does for
a SKU seen once or twice) makes those units worth nearly the penalty, and the look-ahead leaves the
order in hand unfilled to keep them for orders that may never come.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from rich.progress import Progress

from omniroute.simulation.forecast import REGION_GRID_DEGREES, Demand, DemandSource, GivenDemand, ObservedDemand
from omniroute.simulation.inputs import DemandRate, Inventory, SimNode, SimOrder
from omniroute.simulation.pricing import Pricer
from sourcing.lookahead import shadow_prices, sku_batches
from sourcing.problem import Solution, SourcingProblem, Strategy, objective_of

ShadowPrices = Callable[
    [dict[tuple[str, str], int], Demand, dict[tuple[str, str], float], float], dict[tuple[str, str], float]
]
# The (node, SKU) x (region, SKU) pairs of each SKU, summed over a call's SKUs: calls of a few milliseconds
# (larger calls were no faster in all).
SHADOW_BATCH_PAIRS = 2000


class SimulationError(RuntimeError):
    """The replay cannot go on: a strategy answered with something it may not do, or the inputs disagree."""


@dataclass(frozen=True)
class Scenario:
    """What is replayed: the network, its starting stock, the orders in arrival order, how they are priced."""

    nodes: list[SimNode]
    inventory: Inventory
    orders: list[SimOrder]
    pricer: Pricer
    demand: list[DemandRate] | None = None

    def __post_init__(self) -> None:
        known = {node.node_id for node in self.nodes}
        unknown = sorted({node for node, _ in self.inventory} - known)
        if unknown:
            raise SimulationError(f"inventory at unknown nodes: {', '.join(unknown[:5])}")
        for before, after in zip(self.orders, self.orders[1:], strict=False):
            if after.day < before.day:
                raise SimulationError(f"order {after.order_id} (day {after.day}) arrives after order "
                                      f"{before.order_id} (day {before.day}): orders must come in arrival order")


@dataclass(frozen=True)
class RunOptions:
    reprice_every: int = 100
    # Every `reprice_every` orders only the SKUs ordered since the last repricing get new prices; every
    # `reprice_all_every` orders (None: at every repricing) all of them do.
    reprice_all_every: int | None = None
    time_limit_s: float | None = None
    region_grid_degrees: float = REGION_GRID_DEGREES
    shadow_prices: ShadowPrices | None = None  # default: sourcing.lookahead.shadow_prices
    shadow_batch_pairs: int = SHADOW_BATCH_PAIRS

    def __post_init__(self) -> None:
        if self.reprice_every < 1:
            raise ValueError(f"reprice_every must be at least 1, got {self.reprice_every}")
        if self.reprice_all_every is not None and self.reprice_all_every < 1:
            raise ValueError(f"reprice_all_every must be at least 1, got {self.reprice_all_every}")
        if self.shadow_batch_pairs < 1:
            raise ValueError(f"shadow_batch_pairs must be at least 1, got {self.shadow_batch_pairs}")


@dataclass(frozen=True)
class LineDecision:
    """Units of one order line from one node (node None: nobody ships them)."""

    line_no: int
    sku: str
    quantity: int
    node: str | None
    distance_km: float | None


@dataclass(frozen=True)
class OrderRecord:
    order_id: str
    day: int
    cost: float
    shipments: int
    units: int
    units_unfilled: int
    promise_kept: bool
    distance_km: float  # summed over the order's shipments
    unit_km: float  # units shipped x their shipment's distance, summed
    nodes: tuple[str, ...]
    latency_ms: float
    lines: tuple[LineDecision, ...]

    @property
    def split(self) -> bool:
        return self.shipments > 1


@dataclass
class StrategyRun:
    name: str
    orders_total: int
    records: list[OrderRecord] = field(default_factory=list)
    stock_left: Inventory = field(default_factory=dict)  # (node, sku) -> units, when the replay ended
    repricings: int = 0
    repricing_s: float = 0.0

    @property
    def complete(self) -> bool:
        return len(self.records) == self.orders_total

    @property
    def total_cost(self) -> float:
        return sum(record.cost for record in self.records)

    @property
    def split_rate(self) -> float:
        return _share(sum(record.split for record in self.records), len(self.records))

    @property
    def promise_kept_rate(self) -> float:
        return _share(sum(record.promise_kept for record in self.records), len(self.records))

    @property
    def units_unfilled(self) -> int:
        return sum(record.units_unfilled for record in self.records)

    @property
    def km_per_unit(self) -> float:
        shipped = sum(record.units - record.units_unfilled for record in self.records)
        return sum(record.unit_km for record in self.records) / shipped if shipped else 0.0

    @property
    def latencies_ms(self) -> list[float]:
        return [record.latency_ms for record in self.records]

    def node_load(self) -> Counter[str]:
        """Shipments per node over the run."""
        return Counter(node for record in self.records for node in record.nodes)


def _share(count: int, total: int) -> float:
    return count / total if total else 0.0


def simulate(
    scenario: Scenario, strategies: Sequence[Strategy], options: RunOptions | None = None,
    progress: Progress | None = None,
) -> list[StrategyRun]:
    """Replay the scenario through each strategy in turn; one `StrategyRun` per strategy, in order.

    A run that reaches `time_limit_s` stops there and is reported incomplete."""
    options = options or RunOptions()
    names = [strategy.name for strategy in strategies]
    if len(set(names)) != len(names):
        raise SimulationError(f"strategy names must differ, got {names}")
    return [_replay(scenario, strategy, options, progress) for strategy in strategies]


def _replay(scenario: Scenario, strategy: Strategy, options: RunOptions, progress: Progress | None) -> StrategyRun:
    run = StrategyRun(strategy.name, len(scenario.orders))
    stock: dict[str, dict[str, int]] = {}
    for (node_id, sku), units in scenario.inventory.items():
        if units > 0:
            stock.setdefault(sku, {})[node_id] = units
    shipped_today: Counter[str] = Counter()
    prices: dict[tuple[str, str], float] = {}
    ordered_since: set[str] = set()  # SKUs ordered since the last repricing
    reprice_all_every = options.reprice_all_every or options.reprice_every
    day = scenario.orders[0].day if scenario.orders else 0
    source: DemandSource = (GivenDemand(scenario.demand, options.region_grid_degrees) if scenario.demand
                            else ObservedDemand(options.region_grid_degrees))
    set_prices = getattr(strategy, "set_prices", None)
    task = progress.add_task(f"simulate: {strategy.name}", total=len(scenario.orders)) if progress else None
    deadline = time.monotonic() + options.time_limit_s if options.time_limit_s is not None else None
    for index, order in enumerate(scenario.orders):
        if deadline is not None and time.monotonic() > deadline:
            break
        if order.day != day:
            day, shipped_today = order.day, Counter()
        every = index % reprice_all_every == 0
        if set_prices is not None and (every or (index % options.reprice_every == 0 and ordered_since)):
            started = time.perf_counter()
            fresh = _shadow_prices(scenario, stock, source, len(scenario.orders) - index, options,
                                   None if every else ordered_since)
            prices = fresh if every else {**{k: v for k, v in prices.items() if k[1] not in ordered_since}, **fresh}
            set_prices(prices)
            ordered_since = set()
            run.repricings += 1
            run.repricing_s += time.perf_counter() - started
        atp = _atp(order, stock)
        problem = scenario.pricer.problem(order, atp, shipped_today)
        started = time.perf_counter()
        solution = strategy.solve(problem)
        latency_ms = (time.perf_counter() - started) * 1000
        run.records.append(_apply(strategy.name, order, problem, solution, stock, shipped_today, latency_ms))
        source.observe(order)
        ordered_since.update(line.sku for line in order.lines)
        if progress is not None and task is not None:
            progress.advance(task)
    run.stock_left = {(node_id, sku): units for sku, by_node in stock.items() for node_id, units in by_node.items()}
    return run


def _atp(order: SimOrder, stock: Mapping[str, Mapping[str, int]]) -> dict[str, dict[str, int]]:
    """node -> sku -> units, for the order's SKUs, where there are any."""
    atp: dict[str, dict[str, int]] = {}
    for sku in {line.sku for line in order.lines}:
        for node_id, units in stock.get(sku, {}).items():
            if units > 0:
                atp.setdefault(node_id, {})[sku] = units
    return atp


def _shadow_prices(
    scenario: Scenario, stock: Mapping[str, Mapping[str, int]], source: DemandSource, orders_left: int,
    options: RunOptions, skus: set[str] | None = None,
) -> dict[tuple[str, str], float]:
    """Prices of every (node, SKU) with stock and forecast demand, of `skus` only if given."""
    demand = source.remaining(orders_left, skus)
    supply = {(node_id, sku): units for sku in {sku for _, sku in demand}
              for node_id, units in stock.get(sku, {}).items() if units > 0}
    held = {sku for _, sku in supply}
    demand = {key: units for key, units in demand.items() if key[1] in held}
    if not demand:
        return {}
    points = source.regions.points()
    unit_cost = {(node_id, region): scenario.pricer.unit_estimate(node_id, points[region])
                 for node_id in {node_id for node_id, _ in supply} for region in {region for region, _ in demand}}
    compute = options.shadow_prices or shadow_prices
    # The dearest lane from any node to any region seen, so that a call for a few SKUs prices a shortfall as
    # one for all of them does.
    dearest = max(scenario.pricer.unit_estimate(node.node_id, point) for node in scenario.nodes
                  for point in points.values())
    shortfall = min(scenario.pricer.unfilled_penalty, dearest)
    prices: dict[tuple[str, str], float] = {}
    for batch_supply, batch_demand in sku_batches(supply, demand, options.shadow_batch_pairs):
        lanes = {(node_id, region): unit_cost[(node_id, region)]
                 for node_id in {node_id for node_id, _ in batch_supply} for region in {r for r, _ in batch_demand}}
        prices.update(compute(batch_supply, batch_demand, lanes, shortfall))
    return prices


def _apply(
    name: str, order: SimOrder, problem: SourcingProblem, solution: Solution,
    stock: dict[str, dict[str, int]], shipped_today: Counter[str], latency_ms: float,
) -> OrderRecord:
    """Check the answer against the problem and the stock, take it out of the stock, and record it."""
    lines = {line.line_no: line for line in problem.lines}
    candidates = {candidate.node_id: candidate for candidate in problem.candidates}
    taken: Counter[tuple[str, str]] = Counter()
    shipped: Counter[int] = Counter()
    for a in solution.assignments:
        line = lines.get(a.line_no)
        if line is None or line.sku != a.sku:
            raise SimulationError(f"{name}: order {order.order_id} has no line {a.line_no} of {a.sku}")
        if a.node_id not in candidates:
            raise SimulationError(f"{name}: order {order.order_id}: {a.node_id} is not a candidate")
        taken[(a.node_id, a.sku)] += a.quantity
        shipped[a.line_no] += a.quantity
    for line_no, units in shipped.items():
        if units > lines[line_no].quantity:
            raise SimulationError(f"{name}: order {order.order_id} line {line_no}: ships {units} of "
                                  f"{lines[line_no].quantity}")
    for (node_id, sku), units in taken.items():
        if units > stock.get(sku, {}).get(node_id, 0):
            raise SimulationError(f"{name}: order {order.order_id}: takes {units} of {sku} at {node_id}, "
                                  f"which has {stock.get(sku, {}).get(node_id, 0)}")
    used = sorted({a.node_id for a in solution.assignments})
    for node_id in used:
        if candidates[node_id].capacity_left == 0:
            raise SimulationError(f"{name}: order {order.order_id}: {node_id} has no capacity left today")
    for (node_id, sku), units in taken.items():
        stock[sku][node_id] -= units
    for node_id in used:
        shipped_today[node_id] += 1
    unfilled = {n: line.quantity - shipped[n] for n, line in lines.items() if shipped[n] < line.quantity}
    decisions = [LineDecision(a.line_no, a.sku, a.quantity, a.node_id, candidates[a.node_id].distance_km)
                 for a in sorted(solution.assignments, key=lambda a: (a.line_no, a.node_id))]
    decisions += [LineDecision(n, lines[n].sku, units, None, None) for n, units in sorted(unfilled.items())]
    decisions.sort(key=lambda d: (d.line_no, d.node is None, d.node or ""))
    return OrderRecord(
        order_id=order.order_id, day=order.day, cost=objective_of(problem, solution.assignments, unfilled),
        shipments=len(used), units=sum(line.quantity for line in problem.lines),
        units_unfilled=sum(unfilled.values()),
        promise_kept=not unfilled and all(candidates[node_id].meets_promise for node_id in used),
        distance_km=sum(candidates[node_id].distance_km for node_id in used),
        unit_km=sum(a.quantity * candidates[a.node_id].distance_km for a in solution.assignments),
        nodes=tuple(used), latency_ms=latency_ms, lines=tuple(decisions),
    )

