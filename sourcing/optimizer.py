"""The optimal sourcing strategy: a small MILP per order, solved by HiGHS.

Model, per order (lines l, usable nodes n that hold some of the order's SKUs):

    x[l,n] integer >= 0   units of line l from node n, x <= min(atp, quantity) * y[n]
    y[n]   binary         node n ships (one shipment)
    u[l]   continuous     units of line l nobody ships; sum_n x[l,n] + u[l] = quantity
    z      binary         nothing ships at all (only when there is a split penalty)

    min  sum shipment_cost*y + sum unit_cost*x + split_penalty*(sum y + z - 1) + unfilled_penalty*sum u
    s.t. sum over lines of one SKU at a node <= its atp;  sum y <= max_shipments;  sum y + z >= 1

`sum y + z >= 1` with z in the objective makes the split penalty exactly split_penalty*max(0, sum y - 1),
also when nothing ships. Under `ship_complete`, only nodes that hold the whole order are in the model,
x[l,n] = quantity * y[n] and sum y <= 1: u is then quantity * (1 - sum y), so either one node ships
everything or every unit is unfilled. Nodes without capacity left, or missing a required promise, are
left out (y = 0).

Before HiGHS, a fast path: the best plan from one node, and after pruning from two, is exact and cheap
to find; when a bound shows that no plan with more shipments can beat it, it is the answer and HiGHS
is not called (always so for single-unit orders, one usable node, `ship_complete` and
`max_shipments` of 1). Otherwise `prune` keeps the model small and the best plan known so far is
HiGHS's cutoff. Past the time limit, the solver's plan is returned if it beats the best heuristic plan
(nearest, single node, best two nodes), else that plan as method "greedy-fallback".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from time import perf_counter

import highspy

from sourcing.greedy import (
    GreedyNearest,
    SingleNodeFirst,
    best_from,
    check_problem,
    make_solution,
    plan_cost,
    relevant_candidates,
    sku_demand,
    unit_floor,
    whole_order_from,
)
from sourcing.plan_check import shipment_limit
from sourcing.problem import Assignment, PricedCandidate, Solution, SourcingProblem

_EPS = 1e-6
INF = highspy.kHighsInf

# The cheapest one-node plans whose best partner nodes the ranked cut keeps (3 x N two-node plans).
_ANCHORS = 3

# A per-order model has some 60 columns: HiGHS's restarts and sub-MIP heuristics cost more than they
# save there (median solve 18 ms -> 6 ms on 5 lines x 12 candidates), and the cutoff supplies a plan.
_SMALL_MIP: dict[str, bool | float] = {
    "mip_allow_restart": False,
    "mip_heuristic_run_rins": False,
    "mip_heuristic_run_rens": False,
    "mip_heuristic_run_feasibility_jump": False,
    "mip_heuristic_run_root_reduced_cost": False,
}


class QuietHighs(highspy.Highs):
    """HiGHS with console output off before its first call (the constructor's, which prints a banner)."""

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]

    def enableCallbacks(self) -> None:
        self.setOptionValue("output_flag", False)
        super().enableCallbacks()  # type: ignore[no-untyped-call]


@dataclass(frozen=True)
class MipOutcome:
    """What HiGHS answered: "optimal", "time limit" or its own status words; values when it has a plan."""

    status: str
    optimal: bool
    values: list[float] | None
    row_duals: list[float] | None = None


class MipModel:
    """A linear model collected in Python and handed to HiGHS in one call (no per-variable round trips)."""

    def __init__(self) -> None:
        self.cost: list[float] = []
        self.lower: list[float] = []
        self.upper: list[float] = []
        self.integer: list[bool] = []
        self.row_lower: list[float] = []
        self.row_upper: list[float] = []
        self.row_start: list[int] = [0]
        self.row_index: list[int] = []
        self.row_value: list[float] = []
        self.offset = 0.0

    def column(self, cost: float, upper: float, *, integer: bool) -> int:
        self.cost.append(cost)
        self.lower.append(0.0)
        self.upper.append(upper)
        self.integer.append(integer)
        return len(self.cost) - 1

    def row(self, entries: Iterable[tuple[int, float]], *, lower: float = -INF, upper: float = INF) -> int:
        for index, value in entries:
            self.row_index.append(index)
            self.row_value.append(value)
        self.row_start.append(len(self.row_index))
        self.row_lower.append(lower)
        self.row_upper.append(upper)
        return len(self.row_lower) - 1

    def solve(
        self,
        time_limit_s: float,
        *,
        gap: float = 0.0,
        cutoff: float | None = None,
        options: Mapping[str, bool | float] | None = None,
    ) -> MipOutcome:
        """Run HiGHS; `cutoff` (a known plan's cost) lets it discard anything dearer.

        A known plan is passed as a cutoff, not as a MIP start: HiGHS 1.16 with presolve returned a
        wrong "optimal" objective when given a start.
        """
        if not self.cost:
            return MipOutcome(status="optimal", optimal=True, values=[], row_duals=[0.0] * len(self.row_lower))
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = len(self.cost), len(self.row_lower)
        lp.col_cost_, lp.col_lower_, lp.col_upper_ = self.cost, self.lower, self.upper
        lp.row_lower_, lp.row_upper_ = self.row_lower, self.row_upper
        lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
        lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = self.row_start, self.row_index, self.row_value
        lp.offset_ = self.offset
        mip = any(self.integer)
        if mip:
            kinds = {True: highspy.HighsVarType.kInteger, False: highspy.HighsVarType.kContinuous}
            lp.integrality_ = [kinds[flag] for flag in self.integer]
        highs = QuietHighs()
        highs.setOptionValue("time_limit", time_limit_s)
        highs.setOptionValue("mip_rel_gap", gap)
        if cutoff is not None:
            highs.setOptionValue("objective_bound", cutoff)
        for option, value in (options or {}).items():
            highs.setOptionValue(option, value)
        highs.passModel(lp)
        highs.run()
        status = highs.getModelStatus()
        words = {highspy.HighsModelStatus.kOptimal: "optimal", highspy.HighsModelStatus.kTimeLimit: "time limit"}
        feasible = highs.getInfo().primal_solution_status == highspy.SolutionStatus.kSolutionStatusFeasible
        result = highs.getSolution()
        return MipOutcome(
            status=words.get(status, highs.modelStatusToString(status).lower()),
            optimal=status == highspy.HighsModelStatus.kOptimal,
            values=list(result.col_value) if feasible else None,
            row_duals=list(result.row_dual) if feasible and not mip and result.dual_valid else None,
        )


@dataclass
class OrderBlock:
    """One order's columns in a MipModel: x per (line index, node), y per node, u per line."""

    problem: SourcingProblem
    x: dict[tuple[int, str], int]
    y: dict[str, int]
    u: list[int]
    nothing: int | None

    @classmethod
    def add(cls, model: MipModel, problem: SourcingProblem, *, own_stock: bool = True) -> OrderBlock:
        """Add the order's columns and rows; own_stock=False leaves the per-(node, SKU) stock rows to the caller."""
        nodes = relevant_candidates(problem)
        split = problem.split_penalty
        y = {c.node_id: model.column(c.shipment_cost + split, 1.0, integer=True) for c in nodes}
        x: dict[tuple[int, str], int] = {}
        for i, line in enumerate(problem.lines):
            for c in nodes:
                most = min(c.atp.get(line.sku, 0), line.quantity)
                if most > 0:
                    x[(i, c.node_id)] = col = model.column(c.unit_cost.get(line.sku, 0.0), most, integer=True)
                    if problem.ship_complete:
                        model.row([(col, 1.0), (y[c.node_id], -float(line.quantity))], lower=0.0, upper=0.0)
                    else:
                        model.row([(col, 1.0), (y[c.node_id], -float(most))], upper=0.0)
        u = [model.column(problem.unfilled_penalty, line.quantity, integer=False) for line in problem.lines]
        for i, line in enumerate(problem.lines):
            row = [(col, 1.0) for (li, _), col in x.items() if li == i]
            model.row([*row, (u[i], 1.0)], lower=line.quantity, upper=line.quantity)
        if own_stock:
            for c in nodes:
                for sku in sku_demand(problem):
                    cols = [(col, 1.0) for (li, n), col in x.items() if n == c.node_id and problem.lines[li].sku == sku]
                    if len(cols) > 1:
                        model.row(cols, upper=c.atp.get(sku, 0))
        limit = shipment_limit(problem.max_shipments, problem.ship_complete)
        if limit is not None and limit < len(y):
            model.row([(col, 1.0) for col in y.values()], upper=limit)
        nothing = None
        if split > 0 and y:
            nothing = model.column(split, 1.0, integer=True)
            model.row([*((col, 1.0) for col in y.values()), (nothing, 1.0)], lower=1.0)
            model.offset -= split
        return cls(problem=problem, x=x, y=y, u=u, nothing=nothing)

    def forbid(self, model: MipModel, node_set: frozenset[str]) -> None:
        """A no-good cut: the plan may not ship from exactly these nodes."""
        if not node_set <= self.y.keys():
            return
        inside = [(self.y[n], -1.0) for n in node_set]
        outside = [(col, 1.0) for n, col in self.y.items() if n not in node_set]
        model.row([*inside, *outside], lower=1.0 - len(node_set))
        # The plan is read from x, so a node outside the set may meet the cut only by shipping something:
        # else a feasible point past the time limit (or a free shipment) opens it empty and ships the set.
        for n, y_col in self.y.items():
            if n not in node_set:
                model.row([*((col, 1.0) for (_, node), col in self.x.items() if node == n), (y_col, -1.0)],
                          lower=0.0)

    def assignments(self, values: Sequence[float]) -> list[Assignment]:
        found: list[Assignment] = []
        for (i, node_id), col in self.x.items():
            units = round(values[col])
            if units > 0:
                line = self.problem.lines[i]
                found.append(Assignment(line_no=line.line_no, sku=line.sku, node_id=node_id, quantity=units))
        return found


def best_small_plan(problem: SourcingProblem, started: float, *, pairs: bool) -> tuple[Solution, bool]:
    """The best plan from at most one node (with `pairs`: two), and whether it is provably the optimum.

    The best plan from k given nodes is exact (see `best_from`); every plan from k+1 or more nodes
    costs at least the k+1 cheapest shipment costs, k split penalties and the order's unit floor.
    """
    nodes = relevant_candidates(problem)
    if problem.ship_complete:
        plans = [[], *(whole_order_from(problem, c) for c in nodes)]
        return min((make_solution(problem, p, method="milp", status="optimal", started=started) for p in plans),
                   key=lambda s: s.objective), True
    most = min(problem.max_shipments or len(nodes), len(nodes), sum(line.quantity for line in problem.lines))
    floor = unit_floor(problem, nodes)
    fixed = sorted(c.shipment_cost for c in nodes)
    best_cost, best_group = plan_cost(problem, []), tuple[PricedCandidate, ...]()
    proven = False
    for size in range(1, min(most, 2 if pairs else 1) + 1):
        for group in combinations(nodes, size):
            cost = plan_cost(problem, group)
            if cost < best_cost:
                best_cost, best_group = cost, group
        if best_cost <= sum(fixed[: size + 1]) + size * problem.split_penalty + floor + _EPS:
            proven = True
            break
    best = make_solution(problem, best_from(problem, best_group), method="milp", status="optimal", started=started)
    return best, proven or most <= (2 if pairs else 1)


def prune(problem: SourcingProblem, max_candidates: int) -> SourcingProblem:
    """The problem with the candidates that matter, about `max_candidates` of them; see `_prune`."""
    check_problem(problem)
    return _prune(problem, max_candidates, [GreedyNearest().solve(problem), SingleNodeFirst().solve(problem)])


def _prune(problem: SourcingProblem, max_candidates: int, plans: Sequence[Solution]) -> SourcingProblem:
    """Drop candidates in two steps.

    Lossless: nodes that cannot ship (unusable, no stock of the order), nodes whose shipment cost plus
    the order's unit floor exceeds a known plan's cost, and nodes dominated by a node that holds the
    whole order and is no dearer in shipment and every unit cost. Then, only above `max_candidates`, a
    ranked cut that keeps: the nodes of the given (feasible) plans, so the optimum never loses to them;
    then, in turns, the cheapest nodes able to ship the whole order, the best one-node plans, the best
    partners of the best one-node plans, and per line the nodes cheapest per unit (shipment cost
    spread over the units they can send); and, per SKU, enough stock to cover the order whenever the
    full problem has it. The cut is a heuristic: it may lose the optimum (see the tests' seeded networks).
    """
    demand = sku_demand(problem)
    nodes = relevant_candidates(problem)
    upper = min([problem.unfilled_penalty * sum(demand.values()), *(p.objective for p in plans)])
    floor = unit_floor(problem, nodes)
    nodes = [c for c in nodes if c.shipment_cost + floor <= upper + _EPS]
    whole = [(j, m) for j, m in enumerate(nodes) if all(m.atp.get(s, 0) >= q for s, q in demand.items())]
    nodes = [c for i, c in enumerate(nodes) if not any(_dominates(m, j, c, i, demand) for j, m in whole)]
    if len(nodes) > max_candidates:
        nodes = _ranked_cut(problem, nodes, max_candidates, {n for p in plans for n in p.nodes()})
    kept = {c.node_id for c in nodes}
    return problem.model_copy(update={"candidates": [c for c in problem.candidates if c.node_id in kept]})


def _dominates(m: PricedCandidate, m_index: int, n: PricedCandidate, n_index: int, demand: dict[str, int]) -> bool:
    """Whether m, a node holding the whole order, is no dearer than n in anything (ties: the earlier wins)."""
    if m_index == n_index:
        return False
    m_costs = (m.shipment_cost, *(m.unit_cost.get(s, 0.0) for s in demand))
    n_costs = (n.shipment_cost, *(n.unit_cost.get(s, 0.0) for s in demand))
    if any(a > b for a, b in zip(m_costs, n_costs, strict=True)):
        return False
    return m_costs != n_costs or m_index < n_index


def _ranked_cut(
    problem: SourcingProblem, nodes: list[PricedCandidate], max_candidates: int, must: set[str]
) -> list[PricedCandidate]:
    demand = sku_demand(problem)
    whole = sorted((c for c in nodes if all(c.atp.get(s, 0) >= q for s, q in demand.items())),
                   key=lambda c: c.shipment_cost + sum(c.unit_cost.get(s, 0.0) * q for s, q in demand.items()))
    alone_cost = {c.node_id: plan_cost(problem, [c]) for c in nodes}
    alone = sorted(nodes, key=lambda c: alone_cost[c.node_id])
    per_line = [_cheapest_per_unit(nodes, line.sku, line.quantity) for line in problem.lines]
    anchors = {c.node_id: c for c in [*alone[:_ANCHORS], *(ranking[0] for ranking in per_line if ranking)]}
    # Partners come from the head of the other rankings, so the work stays flat as the network grows.
    shortlist = {c.node_id: c for ranking in [whole, alone, *per_line] for c in ranking[: 2 * max_candidates]}
    partners = sorted(shortlist.values(), key=lambda c: min(
        [plan_cost(problem, [a, c]) for a in anchors.values() if a is not c] or [INF]))
    chosen = [c.node_id for c in nodes if c.node_id in must]
    rankings = [whole, alone, partners, *per_line]
    for rank in range(len(nodes)):
        for ranking in rankings:
            if len(chosen) >= max_candidates:
                break
            if rank < len(ranking) and ranking[rank].node_id not in chosen:
                chosen.append(ranking[rank].node_id)
    for line, ranking in zip(problem.lines, per_line, strict=True):
        for candidate in ranking:
            held = sum(c.atp.get(line.sku, 0) for c in nodes if c.node_id in chosen)
            if held >= demand[line.sku]:
                break
            if candidate.node_id not in chosen:
                chosen.append(candidate.node_id)
    return [c for c in nodes if c.node_id in chosen]


def _cheapest_per_unit(nodes: Sequence[PricedCandidate], sku: str, quantity: int) -> list[PricedCandidate]:
    """Nodes holding the SKU, by unit cost plus the shipment cost spread over the units they can send."""

    def per_unit(c: PricedCandidate) -> float:
        return c.unit_cost.get(sku, 0.0) + c.shipment_cost / min(c.atp[sku], quantity)

    return sorted((c for c in nodes if c.atp.get(sku, 0) > 0), key=per_unit)


class MilpStrategy:
    """Optimal sourcing of one order (see the module docstring for the model)."""

    name = "optimal"

    def __init__(self, *, time_limit_s: float = 0.05, max_candidates: int = 12) -> None:
        if time_limit_s <= 0:
            raise ValueError(f"time_limit_s must be positive, got {time_limit_s}")
        if max_candidates < 1:
            raise ValueError(f"max_candidates must be at least 1, got {max_candidates}")
        self.time_limit_s = time_limit_s
        self.max_candidates = max_candidates

    def solve(self, problem: SourcingProblem, *, exclude: Sequence[frozenset[str]] = ()) -> Solution:
        """The cheapest plan; `exclude` lists node sets the plan may not use exactly (no-good cuts)."""
        started = perf_counter()
        check_problem(problem)
        if not exclude:
            small, proven = best_small_plan(problem, started, pairs=len(problem.candidates) <= self.max_candidates)
            if proven:
                return small
        heuristics = [GreedyNearest().solve(problem), SingleNodeFirst().solve(problem)]
        pruned = _prune(problem, self.max_candidates, heuristics)
        if not exclude:
            small, proven = best_small_plan(pruned, started, pairs=True)
            if proven:
                return small
            heuristics.append(small.model_copy(update={"method": "best-two-nodes"}))
        # The fallback must keep the no-good cuts too: a heuristic plan on an excluded node set is no answer.
        allowed = [plan for plan in heuristics if frozenset(plan.nodes()) not in exclude]
        incumbent = min(allowed or [_nothing_ships(problem, started)], key=lambda s: s.objective)
        model = MipModel()
        block = OrderBlock.add(model, pruned)
        for node_set in exclude:
            block.forbid(model, node_set)
        cutoff = None if exclude else incumbent.objective + _EPS
        outcome = model.solve(self.time_limit_s, options=_SMALL_MIP, cutoff=cutoff)
        if outcome.values is not None:
            found = make_solution(problem, block.assignments(outcome.values), method="milp", status="optimal",
                                  started=started)
            if outcome.optimal:
                return found
            if found.objective < incumbent.objective - _EPS:
                return found.model_copy(update={"status": f"{outcome.status}: best plan found, not proven optimal"})
        why = (f"time limit of {self.time_limit_s * 1000:g} ms reached before the solver beat the heuristic plan"
               if outcome.status == "time limit" else f"solver stopped: {outcome.status}")
        return incumbent.model_copy(update={"method": "greedy-fallback", "status": why,
                                            "solve_ms": (perf_counter() - started) * 1000})


def _nothing_ships(problem: SourcingProblem, started: float) -> Solution:
    """Every unit unfilled: the last resort when every heuristic plan is on an excluded node set."""
    return make_solution(problem, [], method="greedy-fallback", status="nothing ships", started=started)
