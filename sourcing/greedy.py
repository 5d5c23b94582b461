"""Greedy baselines on a `SourcingProblem`, and the small helpers every strategy shares.

Both baselines only ever return plans the optimiser would accept: stock (per node and SKU,
across lines), usable nodes (capacity left, the promise when required), `max_shipments` and
`ship_complete` are honoured by leaving units unfilled rather than by breaking a rule. That
makes them safe fallbacks and valid upper bounds for the MILP.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from time import perf_counter

from models.shipment import ShipmentLine
from sourcing.problem import Assignment, PricedCandidate, Solution, SourcingProblem, objective_of


def check_problem(problem: SourcingProblem) -> None:
    """Refuse a problem whose answer could not be told apart: repeated line numbers or node ids."""
    seen_lines: set[int] = set()
    for line in problem.lines:
        if line.line_no in seen_lines:
            raise ValueError(f"lines: line_no {line.line_no} appears more than once in order {problem.order_id}")
        seen_lines.add(line.line_no)
    seen_nodes: set[str] = set()
    for candidate in problem.candidates:
        if candidate.node_id in seen_nodes:
            raise ValueError(
                f"candidates: node_id {candidate.node_id} appears more than once in order {problem.order_id}"
            )
        seen_nodes.add(candidate.node_id)


def usable(problem: SourcingProblem, candidate: PricedCandidate) -> bool:
    """Whether the node may ship at all: it has capacity left and keeps the promise when that is required."""
    if candidate.capacity_left == 0:
        return False
    return candidate.meets_promise or not problem.require_promise


def sku_demand(problem: SourcingProblem) -> dict[str, int]:
    """Units of each SKU the order asks for, summed over its lines."""
    demand: dict[str, int] = {}
    for line in problem.lines:
        demand[line.sku] = demand.get(line.sku, 0) + line.quantity
    return demand


def usable_by_distance(problem: SourcingProblem) -> list[PricedCandidate]:
    """Usable candidates, nearest first (ties by node id)."""
    return sorted((c for c in problem.candidates if usable(problem, c)), key=lambda c: (c.distance_km, c.node_id))


def fills_order(candidate: PricedCandidate, demand: dict[str, int]) -> bool:
    """Whether the node alone holds every unit the order asks for."""
    return all(candidate.atp.get(sku, 0) >= quantity for sku, quantity in demand.items())


def whole_order_cost(problem: SourcingProblem, candidate: PricedCandidate) -> float:
    """What shipping the whole order from this one node costs (it need not have the stock)."""
    units = sum(candidate.unit_cost.get(line.sku, 0.0) * line.quantity for line in problem.lines)
    return candidate.shipment_cost + units


def make_solution(
    problem: SourcingProblem,
    assignments: Iterable[Assignment],
    *,
    method: str,
    status: str,
    started: float,
) -> Solution:
    """A Solution whose unfilled units and objective follow from the assignments (started: perf_counter())."""
    ordered = sorted(assignments, key=lambda a: (a.line_no, a.node_id))
    shipped: dict[int, int] = {}
    for assignment in ordered:
        shipped[assignment.line_no] = shipped.get(assignment.line_no, 0) + assignment.quantity
    unfilled = {
        line.line_no: line.quantity - shipped.get(line.line_no, 0)
        for line in problem.lines
        if shipped.get(line.line_no, 0) < line.quantity
    }
    return Solution(
        assignments=ordered,
        unfilled=unfilled,
        objective=objective_of(problem, ordered, unfilled),
        method=method,
        status=status,
        solve_ms=(perf_counter() - started) * 1000,
    )


def whole_order_from(problem: SourcingProblem, candidate: PricedCandidate) -> list[Assignment]:
    """Every line, in full, from one node."""
    return [
        Assignment(line_no=line.line_no, sku=line.sku, node_id=candidate.node_id, quantity=line.quantity)
        for line in problem.lines
    ]


def best_from(problem: SourcingProblem, nodes: Sequence[PricedCandidate]) -> list[Assignment]:
    """The cheapest plan shipping from these nodes only, each used at most once.

    With the nodes fixed, SKUs no longer interact: each unit goes to the cheapest of them still
    holding its SKU, as long as that costs less than leaving it unfilled. Nodes left without units
    are not in the plan.
    """
    return [
        Assignment(line_no=line.line_no, sku=line.sku, node_id=node.node_id, quantity=units)
        for line, node, units in _fill(problem, nodes)
    ]


def _fill(
    problem: SourcingProblem, nodes: Sequence[PricedCandidate]
) -> Iterator[tuple[ShipmentLine, PricedCandidate, int]]:
    left = {(c.node_id, sku): units for c in nodes for sku, units in c.atp.items()}
    for line in problem.lines:
        needed = line.quantity
        for c in sorted(nodes, key=lambda c: c.unit_cost.get(line.sku, 0.0)):
            if needed == 0 or c.unit_cost.get(line.sku, 0.0) >= problem.unfilled_penalty:
                break
            units = min(needed, left.get((c.node_id, line.sku), 0))
            if units > 0:
                left[(c.node_id, line.sku)] -= units
                needed -= units
                yield line, c, units


def relevant_candidates(problem: SourcingProblem) -> list[PricedCandidate]:
    """Usable nodes that hold some of the order (under ship_complete: all of it)."""
    demand = sku_demand(problem)
    nodes = [c for c in problem.candidates if usable(problem, c) and any(c.atp.get(s, 0) > 0 for s in demand)]
    if problem.ship_complete:
        nodes = [c for c in nodes if all(c.atp.get(s, 0) >= q for s, q in demand.items())]
    return nodes


def unit_floor(problem: SourcingProblem, nodes: Sequence[PricedCandidate]) -> float:
    """A lower bound on what the order's units cost: each unit ships at its cheapest node or is left unfilled."""
    floor = 0.0
    for line in problem.lines:
        costs = [c.unit_cost.get(line.sku, 0.0) for c in nodes if c.atp.get(line.sku, 0) > 0]
        floor += line.quantity * min([problem.unfilled_penalty, *costs])
    return floor


def plan_cost(problem: SourcingProblem, nodes: Sequence[PricedCandidate]) -> float:
    """The cost of `best_from(problem, nodes)`, without building the plan."""
    cost = problem.unfilled_penalty * sum(line.quantity for line in problem.lines)
    used: set[str] = set()
    for line, node, units in _fill(problem, nodes):
        cost += units * (node.unit_cost.get(line.sku, 0.0) - problem.unfilled_penalty)
        if node.node_id not in used:
            used.add(node.node_id)
            cost += node.shipment_cost
    return cost + problem.split_penalty * max(0, len(used) - 1)


class GreedyNearest:
    """Each line from the nearest usable node that can fill it; split nearest-first when none can.

    Nodes are ranked by `distance_km` (ties by node id). Once `max_shipments` nodes are in use,
    only those may ship more. Under `ship_complete` the nearest node that holds the whole order
    ships it all, or nothing ships.
    """

    name = "greedy-nearest"

    def solve(self, problem: SourcingProblem) -> Solution:
        started = perf_counter()
        check_problem(problem)
        nearest = usable_by_distance(problem)
        if problem.ship_complete:
            demand = sku_demand(problem)
            whole = next((c for c in nearest if fills_order(c, demand)), None)
            if whole is None:
                return make_solution(problem, [], method="nearest", status="no single node can ship the whole order",
                                     started=started)
            return make_solution(problem, whole_order_from(problem, whole), method="nearest",
                                 status="heuristic", started=started)
        return make_solution(problem, nearest_first(problem, nearest), method="nearest", status="heuristic",
                             started=started)


def nearest_first(problem: SourcingProblem, ranked: list[PricedCandidate]) -> list[Assignment]:
    """Lines in order, each from the first ranked node that can fill it, else split down the ranking."""
    remaining = {(c.node_id, sku): units for c in ranked for sku, units in c.atp.items()}
    open_nodes: list[str] = []
    assignments: list[Assignment] = []

    def may_open(node_id: str) -> bool:
        limit = problem.max_shipments
        return node_id in open_nodes or limit is None or len(open_nodes) < limit

    def take(line_no: int, sku: str, node_id: str, quantity: int) -> None:
        remaining[(node_id, sku)] -= quantity
        if node_id not in open_nodes:
            open_nodes.append(node_id)
        assignments.append(Assignment(line_no=line_no, sku=sku, node_id=node_id, quantity=quantity))

    for line in problem.lines:
        allowed = [c for c in ranked if may_open(c.node_id)]
        whole = next((c for c in allowed if remaining.get((c.node_id, line.sku), 0) >= line.quantity), None)
        if whole is not None:
            take(line.line_no, line.sku, whole.node_id, line.quantity)
            continue
        needed = line.quantity
        for candidate in ranked:
            if needed == 0:
                break
            units = min(needed, remaining.get((candidate.node_id, line.sku), 0))
            if units > 0 and may_open(candidate.node_id):
                take(line.line_no, line.sku, candidate.node_id, units)
                needed -= units
    return assignments


class SingleNodeFirst:
    """The cheapest usable node that can ship the whole order; otherwise nearest per line.

    "Cheapest" is the node's shipment cost plus its unit costs for the whole order. Under
    `ship_complete` there is no fallback: without such a node nothing ships.
    """

    name = "single-node-first"

    def solve(self, problem: SourcingProblem) -> Solution:
        started = perf_counter()
        check_problem(problem)
        demand = sku_demand(problem)
        whole = [c for c in problem.candidates if usable(problem, c) and fills_order(c, demand)]
        if whole:
            best = min(whole, key=lambda c: (whole_order_cost(problem, c), c.distance_km, c.node_id))
            return make_solution(problem, whole_order_from(problem, best), method="single-node",
                                 status="heuristic", started=started)
        if problem.ship_complete:
            return make_solution(problem, [], method="single-node", status="no single node can ship the whole order",
                                 started=started)
        nearest = usable_by_distance(problem)
        return make_solution(problem, nearest_first(problem, nearest), method="single-node",
                             status="no single node can ship the whole order: nearest node per line", started=started)
