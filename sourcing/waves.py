"""Release waves: re-plan the orders whose shipments are still waiting to be released, together.

Orders held for a wave (cost model `waves`) are planned and reserved at once, but their labels wait.
A wave prices every waiting order against the stock they hold between them plus what is free, and
plans them in one MILP over that shared stock (`sourcing.batch.solve_wave`): units one order holds
may serve another, and an order split across nodes is merged when stock has arrived since (Xu,
Allgor & Graves 2009). The wave changes plans only when the whole wave saves at least
`min_saving_cents`; each changed order gets a full plan with its quotes and explanation. Pure.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from models.address import GeoPoint
from models.catalog import Catalog
from models.costs import CostModel, ServiceLevel
from models.network import Node
from models.plan import FulfillmentPlan
from models.records import OrderRecord, ShipmentRecord
from models.shipment import ShipmentLine, ShipmentState
from sourcing.batch import solve_wave
from sourcing.decide import plan_of
from sourcing.geo import locate
from sourcing.inputs import SourcingInput
from sourcing.optimizer import prune
from sourcing.pricing import price_problem
from sourcing.problem import Assignment, SourcingProblem, objective_of

# Candidates per order in the wave's model: the same cut as one order's MILP.
MAX_CANDIDATES = 12
# Savings below this are ties between equally good plans (and solver tolerance), not worth a swap.
_TIE_CENTS = 0.5


@dataclass(frozen=True)
class WaitingOrder:
    order_id: str
    lines: list[ShipmentLine]
    destination: GeoPoint
    current: list[Assignment]
    level: ServiceLevel | None = None
    deliver_by: date | None = None


@dataclass(frozen=True)
class WaveChange:
    order_id: str
    plan: FulfillmentPlan
    cost_before: float
    cost_after: float


@dataclass(frozen=True)
class WaveResult:
    changes: list[WaveChange]
    orders: int = 0
    cost_before: float = 0.0
    cost_after: float = 0.0
    status: str = ""
    solve_ms: float = 0.0


def plan_release_wave(
    orders: Sequence[WaitingOrder],
    nodes: Sequence[Node],
    pool: Mapping[str, Mapping[str, int]],
    *,
    model: CostModel,
    catalog: Catalog,
    now: datetime,
    min_saving_cents: float,
    time_limit_s: float = 2.0,
) -> WaveResult:
    """New plans for the waiting orders whose plan the wave changes. `pool[node_id][sku]`: free ATP
    plus the units the waiting orders hold there."""
    started = time.perf_counter()
    by_id = {node.node_id: node for node in nodes}
    kept: list[tuple[WaitingOrder, SourcingProblem, float]] = []
    for order in orders:
        priced = price_problem(SourcingInput(order_id=order.order_id, lines=order.lines, destination=order.destination,
                                             nodes=nodes, atp=pool, model=model, catalog=catalog, now=now,
                                             level=order.level, deliver_by=order.deliver_by))
        problem = _with_current(priced, order.current)
        if problem is None:  # a node of its plan cannot be priced now: leave the order as it is
            continue
        kept.append((order, problem, objective_of(problem, order.current, {})))
    if not kept:
        return WaveResult(changes=[], status="no order to re-plan", solve_ms=(time.perf_counter() - started) * 1000)
    solutions = solve_wave([problem for _, problem, _ in kept], time_limit_s=time_limit_s)
    before = sum(cost for _, _, cost in kept)
    after = sum(s.objective if not s.unfilled else cost for s, (_, _, cost) in zip(solutions, kept, strict=True))
    status = solutions[0].status
    if before - after < max(min_saving_cents, _TIE_CENTS):  # a tie changes nothing worth a swap
        return WaveResult(changes=[], orders=len(kept), cost_before=before, cost_after=before,
                          status=f"kept every plan: the wave saves {before - after:.0f} cents",
                          solve_ms=(time.perf_counter() - started) * 1000)
    changes = []
    for solution, (order, problem, cost) in zip(solutions, kept, strict=True):
        if solution.unfilled or _same(solution.assignments, order.current):
            continue
        wave = solution.model_copy(update={"method": "wave", "status": status})
        plan = plan_of(problem, problem, wave, strategy_name="wave", model=model, catalog=catalog, nodes=by_id,
                       destination=order.destination, now=now, level=order.level, deliver_by=order.deliver_by)
        changes.append(WaveChange(order_id=order.order_id, plan=plan, cost_before=cost, cost_after=solution.objective))
    return WaveResult(changes=changes, orders=len(kept), cost_before=before, cost_after=after, status=status,
                      solve_ms=(time.perf_counter() - started) * 1000)


def waiting_order(record: OrderRecord, shipments: Sequence[ShipmentRecord]) -> WaitingOrder | None:
    """The order as a wave sees it: its lines as its shipments hold them, its current plan, and the
    promise its decision kept. None when the wave must leave it alone: its destination cannot be
    located, it has no live (uncancelled) shipment, or one of them no longer waits for release."""
    destination = locate(record.ship_to)
    live = [s for s in shipments if s.state is not ShipmentState.CANCELLED]
    if destination is None or not live or any(s.state is not ShipmentState.PENDING for s in live):
        return None
    current = [Assignment(line_no=line.line_no, sku=line.sku, node_id=s.node_id, quantity=line.quantity)
               for s in live for line in s.lines]
    quantities: dict[tuple[int, str], int] = {}
    for a in current:
        quantities[(a.line_no, a.sku)] = quantities.get((a.line_no, a.sku), 0) + a.quantity
    decision = record.decision
    level = ServiceLevel(decision.service_level) if decision is not None and decision.service_level else None
    deliver_by: date | None = decision.deliver_by if decision is not None else None
    return WaitingOrder(
        order_id=record.order_id, destination=destination, current=current, level=level, deliver_by=deliver_by,
        lines=[ShipmentLine(line_no=n, sku=sku, quantity=q) for (n, sku), q in sorted(quantities.items())],
    )


def _with_current(problem: SourcingProblem, current: Sequence[Assignment]) -> SourcingProblem | None:
    """The problem cut to its best candidates, with the nodes of the current plan kept in it."""
    held = {a.node_id for a in current}
    priced = {c.node_id for c in problem.candidates}
    if not held <= priced:
        return None
    pruned = prune(problem, MAX_CANDIDATES)
    chosen = {c.node_id for c in pruned.candidates} | held
    return problem.model_copy(update={"candidates": [c for c in problem.candidates if c.node_id in chosen]})


def _same(new: Sequence[Assignment], old: Sequence[Assignment]) -> bool:
    def key(assignments: Sequence[Assignment]) -> dict[tuple[int, str], int]:
        out: dict[tuple[int, str], int] = {}
        for a in assignments:
            out[(a.line_no, a.node_id)] = out.get((a.line_no, a.node_id), 0) + a.quantity
        return out
    return key(new) == key(old)
