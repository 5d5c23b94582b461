"""The strategies `omniroute simulate` can replay, by name, and the rules-file strategy.

- greedy-nearest, single-node-first: the greedy baselines (`sourcing.greedy`);
- optimal: the per-order MILP (`sourcing.optimizer.MilpStrategy`), myopic;
- look-ahead: the MILP with shadow prices of stock (`sourcing.lookahead.LookAheadStrategy`);
- a rules file: the order rules (`sourcing.rules`) narrow each problem (excluded nodes, preferred
  nodes' bonus, ship complete, max shipments), then a base strategy answers it. Holds, service
  levels and backorder policies do not apply to a replay and are ignored. The order's facts are
  what a simulated order has: its SKUs, units, line count and destination postal code (channel
  "simulation", currency USD, no total, no tags, no attributes).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from models.network import Node
from models.rules import RuleSet
from omniroute.simulation.inputs import SimNode
from sourcing.geo import lookup_postal_code
from sourcing.problem import Solution, SourcingProblem, Strategy
from sourcing.rules import OrderFacts, apply_to_problem, evaluate

SIMULATION_CHANNEL = "simulation"


def _greedy_nearest() -> Strategy:
    from sourcing.greedy import GreedyNearest

    return GreedyNearest()


def _single_node_first() -> Strategy:
    from sourcing.greedy import SingleNodeFirst

    return SingleNodeFirst()


def _optimal() -> Strategy:
    from sourcing.optimizer import MilpStrategy

    return MilpStrategy()


def _look_ahead() -> Strategy:
    from sourcing.lookahead import LookAheadStrategy

    return LookAheadStrategy()


STRATEGIES: dict[str, Callable[[], Strategy]] = {
    "greedy-nearest": _greedy_nearest,
    "single-node-first": _single_node_first,
    "optimal": _optimal,
    "look-ahead": _look_ahead,
}


def make_strategy(name: str) -> Strategy:
    """The strategy called `name`; ValueError naming the known ones otherwise."""
    factory = STRATEGIES.get(name)
    if factory is None:
        raise ValueError(f"unknown strategy {name!r}; known: {', '.join(STRATEGIES)}")
    return factory()


class RulesStrategy:
    """Order rules first, then `base` on the narrowed problem."""

    def __init__(self, rule_set: RuleSet, base: Strategy, nodes: list[SimNode], postal_codes: dict[str, str],
                 *, name: str = "rules") -> None:
        self.name = name
        self.rule_set = rule_set
        self.base = base
        self._nodes = {n.node_id: _rule_node(n) for n in nodes}
        self._postal_codes = postal_codes

    def solve(self, problem: SourcingProblem) -> Solution:
        postal_code = self._postal_codes.get(problem.order_id, "")
        place = lookup_postal_code(postal_code) if postal_code else None
        facts = OrderFacts(
            channel=SIMULATION_CHANNEL, currency="USD", total=0, ship_to_country="US",
            ship_to_region=place.region if place else "", ship_to_postal_code=postal_code,
            shipping_method="standard", skus=frozenset(line.sku for line in problem.lines), sku_tags=frozenset(),
            line_count=len(problem.lines), units=sum(line.quantity for line in problem.lines),
        )
        narrowed = apply_to_problem(evaluate(self.rule_set, facts), problem, self._nodes)
        return self.base.solve(narrowed)


def _rule_node(node: SimNode) -> Node:
    """The node as rules see it; its region (state) comes from its postal code when it has one."""
    place = lookup_postal_code(node.postal_code) if node.postal_code else None
    return Node(node_id=node.node_id, name=node.node_id, kind=node.kind, postal_code=node.postal_code,
                region=place.region if place else None, latitude=node.point.latitude, longitude=node.point.longitude)


def rules_strategy(path: Path, base: Strategy, nodes: list[SimNode], postal_codes: dict[str, str]) -> RulesStrategy:
    """A RulesStrategy from a rules file (raises omniroute.files.rule_files.RuleFileError on a bad file)."""
    from omniroute.files.rule_files import load_rules

    return RulesStrategy(load_rules(path), base, nodes, postal_codes, name=f"rules-{base.name}")
