"""The MILP sourcing strategy: hand-checked optima, the rules it keeps, pruning, and its runners-up."""

from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sourcing.alternatives import runners_up
from sourcing.greedy import GreedyNearest, SingleNodeFirst, usable
from sourcing.optimizer import MilpStrategy, MipModel, OrderBlock, prune
from sourcing.problem import Assignment, PricedCandidate, Solution, SourcingProblem, objective_of
from tests.fixtures.sourcing_problems import assert_keeps_the_rules, order, problems, shipped


def node(node_id: str, atp: dict[str, int], *, ship: float = 500.0, unit: float = 10.0, km: float = 100.0,
         capacity: int | None = None, promise: bool = True) -> PricedCandidate:
    return PricedCandidate(node_id=node_id, service="ground", distance_km=km, shipment_cost=ship,
                           unit_cost={sku: unit for sku in atp}, atp=atp, capacity_left=capacity,
                           meets_promise=promise)


# Two lines; the two nearest nodes each hold one SKU, a farther node holds both.
NEAR_A = node("near-a", {"A": 1}, ship=500, km=10)
NEAR_B = node("near-b", {"B": 1}, ship=500, km=20)
FAR_AB = node("far-ab", {"A": 1, "B": 1}, ship=700, unit=20, km=900)


def test_one_farther_node_beats_the_nearest_split() -> None:
    problem = order([("A", 1), ("B", 1)], [NEAR_A, NEAR_B, FAR_AB])
    nearest = GreedyNearest().solve(problem)
    best = MilpStrategy().solve(problem)
    assert nearest.objective == 500 + 500 + 10 + 10
    assert shipped(best) == [(1, "far-ab", 1), (2, "far-ab", 1)]
    assert (best.objective, best.method, best.status) == (700 + 20 + 20, "milp", "optimal")


def test_the_split_penalty_flips_the_answer() -> None:
    candidates = [node("a", {"A": 1}, ship=300), node("b", {"B": 1}, ship=300), node("ab", {"A": 1, "B": 1}, ship=700)]
    split = MilpStrategy().solve(order([("A", 1), ("B", 1)], candidates))
    assert split.nodes() == ["a", "b"] and split.objective == 620
    whole = MilpStrategy().solve(order([("A", 1), ("B", 1)], candidates, split_penalty=200))
    assert whole.nodes() == ["ab"] and whole.objective == 720


def test_a_node_without_capacity_left_is_not_used() -> None:
    full = FAR_AB.model_copy(update={"capacity_left": 0})
    assert MilpStrategy().solve(order([("A", 1), ("B", 1)], [NEAR_A, NEAR_B, full])).nodes() == ["near-a", "near-b"]


def test_a_node_missing_the_promise_is_used_only_when_the_promise_is_not_required() -> None:
    late = FAR_AB.model_copy(update={"meets_promise": False})
    problem = order([("A", 1), ("B", 1)], [NEAR_A, NEAR_B, late])
    assert MilpStrategy().solve(problem).nodes() == ["near-a", "near-b"]
    relaxed = problem.model_copy(update={"require_promise": False})
    assert MilpStrategy().solve(relaxed).nodes() == ["far-ab"]


def test_ship_complete_ships_everything_from_one_node_or_nothing() -> None:
    candidates = [node("a", {"A": 2}, ship=100), node("b", {"B": 1}, ship=100), node("ab", {"A": 2, "B": 1}, ship=900)]
    complete = MilpStrategy().solve(order([("A", 2), ("B", 1)], candidates, ship_complete=True))
    assert shipped(complete) == [(1, "ab", 2), (2, "ab", 1)] and complete.objective == 930
    nothing = MilpStrategy().solve(order([("A", 2), ("B", 1)], candidates[:2], ship_complete=True, unfilled_penalty=50))
    assert nothing.assignments == [] and nothing.unfilled == {1: 2, 2: 1} and nothing.objective == 150


def test_max_shipments_leaves_the_dearest_line_unfilled() -> None:
    candidates = [node("a", {"A": 1}, ship=300), node("b", {"B": 1}, ship=400)]
    best = MilpStrategy().solve(order([("A", 1), ("B", 1)], candidates, max_shipments=1, unfilled_penalty=1000))
    assert shipped(best) == [(1, "a", 1)] and best.unfilled == {2: 1} and best.objective == 300 + 10 + 1000


def test_lines_of_one_sku_never_take_more_than_the_node_holds() -> None:
    candidates = [node("cheap", {"A": 3}, ship=100, unit=10), node("dear", {"A": 3}, ship=100, unit=50)]
    best = MilpStrategy().solve(order([("A", 2), ("A", 2)], candidates))
    assert sum(a.quantity for a in best.assignments if a.node_id == "cheap") == 3
    assert best.objective == 200 + 3 * 10 + 50 and best.unfilled == {}


def test_units_dearer_than_the_unfilled_penalty_are_left_unfilled() -> None:
    best = MilpStrategy().solve(order([("A", 2)], [node("n", {"A": 2}, ship=0, unit=150)], unfilled_penalty=100))
    assert best.assignments == [] and best.unfilled == {1: 2} and best.objective == 200


def test_an_order_needing_three_nodes_is_solved_to_the_optimum() -> None:
    # Line A (3 units): the small node holds 2 and ships cheaply, the big node holds 3.
    candidates = [node("a-small", {"A": 2}, ship=100), node("a-big", {"A": 3}, ship=400),
                  node("b", {"B": 1}, ship=300), node("c", {"C": 1}, ship=350)]
    best = MilpStrategy().solve(order([("A", 3), ("B", 1), ("C", 1)], candidates, split_penalty=50))
    assert best.nodes() == ["a-big", "b", "c"]
    assert best.objective == 400 + 300 + 350 + 5 * 10 + 2 * 50 and best.status == "optimal"


def test_past_the_time_limit_the_heuristic_plan_comes_back_and_says_why() -> None:
    skus = [f"S{i}" for i in range(4)]
    candidates = [
        PricedCandidate(node_id=f"n{j}", service="ground", distance_km=10 * j, shipment_cost=500 + 7 * j,
                        unit_cost={s: 10 + (i * j) % 7 for i, s in enumerate(skus)},
                        atp={s: 1 for i, s in enumerate(skus) if (i + j) % 3})
        for j in range(8)
    ]
    problem = order([(s, 2) for s in skus], candidates)
    rushed = MilpStrategy(time_limit_s=1e-9).solve(problem)
    assert rushed.method == "greedy-fallback" and "time limit" in rushed.status
    assert_keeps_the_rules(problem, rushed)
    assert rushed.objective >= MilpStrategy().solve(problem).objective


def test_bad_settings_are_refused_by_name() -> None:
    with pytest.raises(ValueError, match="time_limit_s"):
        MilpStrategy(time_limit_s=0)
    with pytest.raises(ValueError, match="max_candidates"):
        MilpStrategy(max_candidates=0)


def brute_force(problem: SourcingProblem) -> float:
    """The optimum by trying every split of every line over the usable nodes (tiny orders only)."""
    nodes = [c for c in problem.candidates if usable(problem, c)]
    splits = [[s for s in itertools.product(range(line.quantity + 1), repeat=len(nodes)) if sum(s) <= line.quantity]
              for line in problem.lines]
    best = float("inf")
    for choice in itertools.product(*splits):
        plan = [Assignment(line_no=line.line_no, sku=line.sku, node_id=c.node_id, quantity=q)
                for line, split in zip(problem.lines, choice, strict=True)
                for c, q in zip(nodes, split, strict=True) if q]
        taken: dict[tuple[str, str], int] = {}
        for a in plan:
            taken[(a.node_id, a.sku)] = taken.get((a.node_id, a.sku), 0) + a.quantity
        used = {a.node_id for a in plan}
        unfilled = {ln.line_no: ln.quantity - sum(s) for ln, s in zip(problem.lines, choice, strict=True)
                    if sum(s) < ln.quantity}
        if (any(q > next(c for c in nodes if c.node_id == n).atp.get(s, 0) for (n, s), q in taken.items())
                or len(used) > (problem.max_shipments or len(nodes))
                or (problem.ship_complete and (len(used) > 1 or (used and unfilled)))):
            continue
        best = min(best, objective_of(problem, plan, unfilled))
    return best


@st.composite
def tiny_problems(draw: st.DrawFn) -> SourcingProblem:
    lines = draw(st.lists(st.tuples(st.sampled_from(["A", "B"]), st.integers(1, 2)), min_size=1, max_size=3))
    candidates = [
        PricedCandidate(node_id=f"n{i}", service="g", distance_km=draw(st.integers(0, 999)),
                        shipment_cost=draw(st.integers(0, 1000)), meets_promise=draw(st.booleans()),
                        unit_cost={s: draw(st.integers(0, 400)) for s in "AB"},
                        atp={s: draw(st.integers(0, 3)) for s in "AB"},
                        capacity_left=draw(st.sampled_from([None, 0, 1])))
        for i in range(draw(st.integers(1, 3)))
    ]
    return order(lines, candidates, max_shipments=draw(st.sampled_from([None, 1, 2])),
                 ship_complete=draw(st.booleans()), require_promise=draw(st.booleans()),
                 split_penalty=draw(st.sampled_from([0, 150])), unfilled_penalty=draw(st.sampled_from([300, 5000])))


@settings(max_examples=80, deadline=None)
@given(tiny_problems())
def test_the_strategy_and_the_bare_model_both_find_the_brute_force_optimum(problem: SourcingProblem) -> None:
    optimum = brute_force(problem)
    assert MilpStrategy().solve(problem).objective == pytest.approx(optimum)
    model = MipModel()
    block = OrderBlock.add(model, problem)
    outcome = model.solve(5.0)
    assert outcome.optimal and outcome.values is not None
    plan = Solution(assignments=block.assignments(outcome.values), objective=0, method="test")
    unfilled = {ln.line_no: ln.quantity - sum(a.quantity for a in plan.assignments if a.line_no == ln.line_no)
                for ln in problem.lines}
    assert objective_of(problem, plan.assignments, {k: v for k, v in unfilled.items() if v}) == pytest.approx(optimum)


@settings(max_examples=120, deadline=None)
@given(problems())
def test_the_optimum_keeps_every_rule_and_never_costs_more_than_a_greedy_plan(problem: SourcingProblem) -> None:
    best = MilpStrategy(time_limit_s=5).solve(problem)
    assert_keeps_the_rules(problem, best)
    assert best.objective <= GreedyNearest().solve(problem).objective + 1e-6
    assert best.objective <= SingleNodeFirst().solve(problem).objective + 1e-6


def network(rng: random.Random, lines: int, nodes: int) -> SourcingProblem:
    """A random order on a network where shipping cost grows with distance, as rate tables do."""
    skus = [f"S{i}" for i in range(lines + 1)]
    candidates = []
    for i in range(nodes):
        km = rng.uniform(10, 4000)
        ship = round((500 + km / 2) * rng.uniform(0.8, 1.2))
        candidates.append(PricedCandidate(
            node_id=f"n{i}", service="ground", distance_km=km, shipment_cost=ship,
            unit_cost={s: rng.randint(20, 200) for s in skus}, atp={s: rng.choice([0, 0, 1, 2, 5, 20]) for s in skus},
            capacity_left=rng.choice([None, None, 0, 5]), meets_promise=rng.random() > 0.1))
    return order([(rng.choice(skus), rng.randint(1, 4)) for _ in range(lines)], candidates,
                 split_penalty=rng.choice([0, 200, 800]), max_shipments=rng.choice([None, None, 2]))


def test_pruning_to_twelve_candidates_keeps_the_optimum_of_seeded_random_networks() -> None:
    rng = random.Random(20150601)
    unpruned = MilpStrategy(max_candidates=1000, time_limit_s=10)
    cut = 0
    for _ in range(25):
        problem = network(rng, lines=rng.randint(3, 5), nodes=rng.randint(20, 50))
        cut += len(prune(problem, 12).candidates) < len(prune(problem, 1000).candidates)
        optimum = unpruned.solve(problem).objective
        assert MilpStrategy(time_limit_s=10).solve(problem).objective == pytest.approx(optimum)
    assert cut >= 10


def test_prune_drops_nodes_that_cannot_ship_cannot_win_or_are_dominated() -> None:
    candidates = [node("full", {"A": 5}, capacity=0), node("late", {"A": 5}, promise=False), node("empty", {"B": 5}),
                  node("whole", {"A": 5}, ship=400), node("same-ship-dearer-units", {"A": 5}, ship=400, unit=15),
                  node("too-dear-to-ship", {"A": 1}, ship=401), node("short", {"A": 1}, ship=90)]
    # The best known plan ships both units from "whole" (420); any plan from "too-dear-to-ship" costs 421 or more.
    kept = prune(order([("A", 2)], candidates), 12)
    assert [c.node_id for c in kept.candidates] == ["whole", "short"]


def test_prune_keeps_enough_stock_and_a_whole_order_node_when_the_network_has_them() -> None:
    crumbs = [node(f"crumb{i}", {"A": 1}, ship=10, unit=1) for i in range(20)]
    problem = order([("A", 5), ("B", 1)], [*crumbs, node("whole", {"A": 5, "B": 1}, ship=5000)])
    kept = prune(problem, 3)
    assert "whole" in [c.node_id for c in kept.candidates]
    crumbs_only = prune(order([("A", 5)], crumbs), 3)
    assert sum(c.atp.get("A", 0) for c in crumbs_only.candidates) >= 5


def test_runners_up_are_priced_and_say_why_they_lost() -> None:
    problem = order([("A", 1), ("B", 1)], [NEAR_A, NEAR_B, FAR_AB], split_penalty=100)
    best = MilpStrategy().solve(problem)
    assert best.nodes() == ["far-ab"]
    others = runners_up(problem, best)
    assert [o.label for o in others] == ["next-best plan (near-a + near-b)"]
    [split] = others
    assert split.solution.objective == 1120
    assert split.reason == "+380 cents: one more shipment (+400), unit costs -20"


def test_the_next_best_plan_avoids_the_chosen_nodes_even_when_the_solver_runs_out_of_time() -> None:
    problem = order([("A", 1), ("B", 1)], [NEAR_A, NEAR_B, FAR_AB], split_penalty=100)
    best = MilpStrategy().solve(problem)
    no_time = MilpStrategy(time_limit_s=1e-9)  # as on a machine too busy to give HiGHS its 50 ms
    assert no_time.solve(problem, exclude=[frozenset(best.nodes())]).nodes() == ["near-a", "near-b"]
    assert [o.label for o in runners_up(problem, best, milp=no_time)] == ["next-best plan (near-a + near-b)"]


def test_a_node_that_costs_nothing_to_open_does_not_let_the_next_best_plan_ship_the_excluded_nodes() -> None:
    hub = node("hub", {"A": 1}, ship=100)
    free_but_dear = node("free-but-dear", {"A": 1}, ship=0, unit=900)
    problem = order([("A", 1)], [hub, free_but_dear], unfilled_penalty=10_000)
    assert MilpStrategy().solve(problem).nodes() == ["hub"]
    other = MilpStrategy(time_limit_s=10).solve(problem, exclude=[frozenset({"hub"})])
    assert other.nodes() == ["free-but-dear"] and other.objective == 900


def test_with_every_heuristic_plan_excluded_and_no_time_the_fallback_ships_nothing() -> None:
    problem = order([("A", 1)], [NEAR_A])
    plan = MilpStrategy(time_limit_s=1e-9).solve(problem, exclude=[frozenset({"near-a"})])
    assert plan.nodes() == [] and plan.unfilled == {1: 1}


def test_a_cheaper_plan_that_misses_the_promise_says_so() -> None:
    late = node("late", {"A": 1, "B": 1}, ship=200, promise=False)
    problem = order([("A", 1), ("B", 1)], [NEAR_A, NEAR_B, FAR_AB, late])
    best = MilpStrategy().solve(problem)
    others = runners_up(problem, best, k=5)
    ignoring = next(o for o in others if o.label.startswith("cheapest ignoring the promise"))
    assert ignoring.solution.nodes() == ["late"]
    assert ignoring.reason.startswith("-520 cents: misses the promise (late)")
    assert [o.solution.objective for o in others] == sorted(o.solution.objective for o in others)
    assert [o.label for o in runners_up(problem, best, k=1)] == [others[0].label]
