"""Runners-up: the plans an operator would ask about, what each costs, and in words why it lost.

For a chosen plan, the candidates are the next-best plan on a different set of nodes (the MILP
with a no-good cut on the chosen set), the best plan from a single node, the nearest-node plan,
and, when some node misses the promise, the cheapest plan that ignores it. Every runner-up is
priced by the problem's own objective, so the differences add up.
"""

from __future__ import annotations

from time import perf_counter

from pydantic import BaseModel

from sourcing.greedy import GreedyNearest, best_from, make_solution, relevant_candidates, whole_order_from
from sourcing.optimizer import MilpStrategy
from sourcing.plan_check import check_shipments
from sourcing.problem import Solution, SourcingProblem

_NUMBERS = {1: "one", 2: "two", 3: "three"}


class RunnerUp(BaseModel):
    """A plan that was not chosen: a short label, the plan, and why it lost (or what rule it breaks)."""

    label: str
    solution: Solution
    reason: str


def runners_up(
    problem: SourcingProblem, best: Solution, k: int = 3, *, milp: MilpStrategy | None = None
) -> list[RunnerUp]:
    """Up to k plans different from `best`, cheapest first, each with its reason."""
    if k < 1:
        return []
    milp = milp or MilpStrategy()
    other_nodes = milp.solve(problem, exclude=[frozenset(best.nodes())])
    options = [(f"next-best plan ({_nodes(other_nodes)})", other_nodes)]
    single = _best_single_node(problem)
    if single is not None:
        options.append((f"best single node ({_nodes(single)})", single))
    options.append(("nearest node per line", GreedyNearest().solve(problem)))
    if problem.require_promise and any(not c.meets_promise for c in problem.candidates):
        relaxed = milp.solve(problem.model_copy(update={"require_promise": False}))
        options.append((f"cheapest ignoring the promise ({_nodes(relaxed)})", relaxed))
    seen = [_key(best)]
    found: list[RunnerUp] = []
    for label, plan in sorted(options, key=lambda option: option[1].objective):
        if _key(plan) in seen:
            continue
        seen.append(_key(plan))
        found.append(RunnerUp(label=label, solution=plan, reason=reason(problem, best, plan)))
    return found[:k]


def reason(problem: SourcingProblem, best: Solution, other: Solution) -> str:
    """Why `other` lost to `best`, e.g. "+412 cents: one more shipment (+350), unit costs +62"."""
    delta = other.objective - best.objective
    head = "same cost" if abs(delta) < 0.5 else f"{delta:+.0f} cents"
    parts = _broken_rules(problem, other)
    mine, theirs = cost_parts(problem, best), cost_parts(problem, other)
    more = len(other.nodes()) - len(best.nodes())
    shipping = theirs["shipping"] - mine["shipping"]
    if more:
        count = f"{_NUMBERS.get(abs(more), str(abs(more)))} {'more' if more > 0 else 'fewer'}"
        parts.append(f"{count} shipment{'s' if abs(more) > 1 else ''} ({shipping:+.0f})")
    elif abs(shipping) >= 0.5:
        parts.append(f"{'dearer' if shipping > 0 else 'cheaper'} shipments ({shipping:+.0f})")
    units = theirs["units"] - mine["units"]
    if abs(units) >= 0.5:
        parts.append(f"unit costs {units:+.0f}")
    short = sum(other.unfilled.values()) - sum(best.unfilled.values())
    if short:
        count = f"{abs(short)} {'more' if short > 0 else 'fewer'} unit{'s' if abs(short) > 1 else ''}"
        parts.append(f"{count} unfilled ({theirs['unfilled'] - mine['unfilled']:+.0f})")
    return f"{head}: {', '.join(parts)}" if parts else f"{head}: the same nodes, units split differently"


def cost_parts(problem: SourcingProblem, solution: Solution) -> dict[str, float]:
    """The objective in three parts: shipping (with the split penalty), units, and unfilled units."""
    by_node = {c.node_id: c for c in problem.candidates}
    used = solution.nodes()
    return {
        "shipping": sum(by_node[n].shipment_cost for n in used) + problem.split_penalty * max(0, len(used) - 1),
        "units": sum(by_node[a.node_id].unit_cost.get(a.sku, 0.0) * a.quantity for a in solution.assignments),
        "unfilled": problem.unfilled_penalty * sum(solution.unfilled.values()),
    }


def _broken_rules(problem: SourcingProblem, plan: Solution) -> list[str]:
    by_node = {c.node_id: c for c in problem.candidates}
    broken = []
    late = [n for n in plan.nodes() if not by_node[n].meets_promise]
    if late and problem.require_promise:
        broken.append(f"misses the promise ({', '.join(late)})")
    full = [n for n in plan.nodes() if by_node[n].capacity_left == 0]
    if full:
        broken.append(f"no capacity left ({', '.join(full)})")
    return broken + check_shipments(plan.nodes(), unfilled=bool(plan.unfilled), max_shipments=problem.max_shipments,
                                    ship_complete=problem.ship_complete).broken


def _best_single_node(problem: SourcingProblem) -> Solution | None:
    started = perf_counter()
    plans = [
        make_solution(problem, whole_order_from(problem, c) if problem.ship_complete else best_from(problem, [c]),
                      method="single-node", status="best plan from one node", started=started)
        for c in relevant_candidates(problem)
    ]
    return min(plans, key=lambda s: s.objective, default=None)


def _key(plan: Solution) -> tuple[tuple[tuple[int, str, int], ...], tuple[tuple[int, int], ...]]:
    return (tuple(sorted((a.line_no, a.node_id, a.quantity) for a in plan.assignments)),
            tuple(sorted(plan.unfilled.items())))


def _nodes(plan: Solution) -> str:
    return " + ".join(plan.nodes()) or "nothing ships"
