"""Order rules at work: which rules an order fires, their merged outcome, and its effect on sourcing.

Pure and deterministic: an order's facts and a `RuleSet` in, a `RuleOutcome` out; an outcome and a
`SourcingProblem` in, a narrowed problem out. Loading rule files is `omniroute.files.rule_files`' job.

Rules are evaluated in file order and every enabled rule whose condition holds fires (there is no
"first match stops"). Their actions merge as follows:

- hold: every reason is kept, in rule order; any hold holds the order.
- exclude_nodes: a node any fired rule excludes is not a candidate.
- prefer_nodes: bonuses add up over every preference that selects a node.
- ship_complete: any rule asking for it wins.
- max_shipments: the smallest asked.
- service_level: the fastest asked (next_day > two_day > standard), so no rule can slow an order
  another rule sped up, and the answer does not depend on rule order.
- backorder_policy, pickup_fallback: the first fired rule (in file order) that sets one; later ones
  are recorded as fired but do not change it.

A rule whose condition cannot be decided (an order total in a currency the rule set has no FX rate
for) holds the order instead of doing what it says, with a reason naming the currency; see
`sourcing.conditions`. A fired rule records the conversions its condition made.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import assert_never

from models.network import Node
from models.rules import (
    SERVICE_LEVEL_SPEED,
    Action,
    BackorderPolicy,
    ExcludeNodes,
    FiredRule,
    Hold,
    MaxShipments,
    NodeSelector,
    PickupFallback,
    Preference,
    PreferNodes,
    Rule,
    RuleOutcome,
    RuleSet,
    ServiceLevelName,
    SetBackorderPolicy,
    SetPickupFallback,
    SetServiceLevel,
    ShipComplete,
)
from sourcing.conditions import Verdict, judge, matches
from sourcing.order_facts import OrderFacts
from sourcing.problem import SourcingProblem

__all__ = ["FiredRule", "OrderFacts", "RuleOutcome", "apply_to_problem", "describe", "evaluate", "matches"]



def describe(action: Action) -> str:
    """One action in an operator's words."""
    match action:
        case Hold():
            return f"hold: {action.hold}"
        case ExcludeNodes():
            return f"exclude nodes: {action.exclude_nodes.describe()}"
        case PreferNodes():
            preference = action.prefer_nodes
            return f"prefer nodes: {preference.describe()} ({preference.bonus_cents} cents off per shipment)"
        case ShipComplete():
            return "ship complete"
        case MaxShipments():
            n = action.max_shipments
            return f"at most {n} shipment{'s' if n != 1 else ''}"
        case SetServiceLevel():
            return f"service level {action.service_level}"
        case SetBackorderPolicy():
            return f"backorder policy: {action.backorder_policy}"
        case SetPickupFallback():
            return ("a pickup no store can fill ships to the customer" if action.pickup_fallback == "ship"
                    else "a pickup no store can fill goes to another pickup store only")
        case _:
            assert_never(action)


def evaluate(rule_set: RuleSet, facts: OrderFacts) -> RuleOutcome:
    """Fire every enabled rule whose condition holds, in order, and merge their actions."""
    holds: list[str] = []
    excluded: list[NodeSelector] = []
    preferred: list[Preference] = []
    ship_complete = False
    max_shipments: int | None = None
    service_level: ServiceLevelName | None = None
    backorder_policy: BackorderPolicy | None = None
    pickup_fallback: PickupFallback | None = None
    fired: list[FiredRule] = []
    for rule in rule_set.rules:
        if not rule.enabled:
            continue
        verdict = judge(rule.when, facts, rule_set.fx_rates)
        if verdict.answer is None:
            undecided = _undecided(rule, verdict)
            holds.append(undecided)
            fired.append(FiredRule(rule_id=rule.id, description=rule.description, actions=[f"hold: {undecided}"],
                                   because=list(verdict.conversions)))
            continue
        if not verdict.answer:
            continue
        for action in rule.then:
            match action:
                case Hold():
                    holds.append(action.hold)
                case ExcludeNodes():
                    excluded.append(action.exclude_nodes)
                case PreferNodes():
                    preferred.append(action.prefer_nodes)
                case ShipComplete():
                    ship_complete = True
                case MaxShipments():
                    max_shipments = _smallest(max_shipments, action.max_shipments)
                case SetServiceLevel():
                    service_level = _faster(service_level, action.service_level)
                case SetBackorderPolicy():
                    backorder_policy = backorder_policy or action.backorder_policy
                case SetPickupFallback():
                    pickup_fallback = pickup_fallback or action.pickup_fallback
                case _:
                    assert_never(action)
        fired.append(FiredRule(rule_id=rule.id, description=rule.description,
                               actions=[describe(action) for action in rule.then],
                               because=list(verdict.conversions)))
    return RuleOutcome(holds=holds, excluded=excluded, preferred=preferred, ship_complete=ship_complete,
                       max_shipments=max_shipments, service_level=service_level,
                       backorder_policy=backorder_policy, pickup_fallback=pickup_fallback, fired=fired)


def _undecided(rule: Rule, verdict: Verdict) -> str:
    return f"rule {rule.id} cannot be decided: {'; '.join(verdict.unknowns)}"


def _smallest(current: int | None, asked: int | None) -> int | None:
    if current is None:
        return asked
    return current if asked is None else min(current, asked)


def _faster(current: ServiceLevelName | None, asked: ServiceLevelName) -> ServiceLevelName:
    if current is None or SERVICE_LEVEL_SPEED[asked] > SERVICE_LEVEL_SPEED[current]:
        return asked
    return current


def apply_to_problem(
    outcome: RuleOutcome,
    problem: SourcingProblem,
    nodes: Mapping[str, Node],
    node_tags: Mapping[str, Sequence[str]] | None = None,
) -> SourcingProblem:
    """A copy of `problem` with the outcome's sourcing effects; `problem` itself is left as it was.

    Excluded candidates go; a preferred candidate's shipment cost drops by its bonus (never below
    0); ship_complete and max_shipments tighten (never loosen) what the problem already asks.
    `nodes` must hold every candidate's node; `node_tags` gives the network's tags per node id.
    """
    tags_by_node = node_tags or {}
    candidates = []
    for candidate in problem.candidates:
        node = nodes.get(candidate.node_id)
        if node is None:
            raise ValueError(f"candidate node {candidate.node_id!r} is not in the network given to the rules")
        tags = frozenset(tags_by_node.get(candidate.node_id, ()))
        if not outcome.allows(node, tags):
            continue
        bonus = outcome.preference_bonus(node, tags)
        if bonus:
            candidate = candidate.model_copy(update={"shipment_cost": max(0.0, candidate.shipment_cost - bonus)})
        candidates.append(candidate)
    return problem.model_copy(update={
        "lines": list(problem.lines),
        "candidates": candidates,
        "ship_complete": problem.ship_complete or outcome.ship_complete,
        "max_shipments": _smallest(problem.max_shipments, outcome.max_shipments),
    })
