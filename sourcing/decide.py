"""One live sourcing decision: price the order, apply the rules, solve, price the answer exactly.

This is what the order workflow's allocate step calls (through the inventory activity) and what
`GET /v1/orders/{id}` later shows: the plan, the exact cost of each shipment from the rate card,
the runners-up with the reason each lost, the rules that fired and whether the promise holds.

The optimiser works on a linearised problem (sourcing/pricing.py); the shipments it picks are then
quoted exactly (sourcing/costs.py), so the cost shown is the rate card's, not the model's.
When no node can keep the promise for some units, the order is solved again without the promise:
a late parcel beats a cancelled line, and the decision says the promise was not kept.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime

from models.address import GeoPoint
from models.catalog import Catalog
from models.costs import CostModel, ServiceLevel
from models.network import Node
from models.plan import (
    CostPart,
    FulfillmentPlan,
    PlannedShipment,
    RunnerUpPlan,
    ShipmentCost,
    SourcingDecision,
    UnfillableLine,
)
from models.rules import RuleOutcome
from models.shipment import ShipmentLine
from sourcing.alternatives import runners_up
from sourcing.costs import quote_shipment
from sourcing.inputs import DecisionInput
from sourcing.pricing import price_problem
from sourcing.problem import Solution, SourcingProblem
from sourcing.rules import apply_to_problem


def decide(request: DecisionInput) -> FulfillmentPlan:
    """The plan for one order, with its decision record. Pure: every input is in `request`.

    A service level the rules ask for replaces the order's when it is faster. When no node can keep
    the promise for some units and dropping the promise fills more, the plan ships late and says so.
    """
    order, outcome, strategy = request.order, request.outcome, request.strategy
    if outcome is not None and outcome.service_level is not None:
        asked = ServiceLevel(outcome.service_level)
        if order.level is None or asked.at_least(order.level):
            order = replace(order, level=asked)
    by_id = {node.node_id: node for node in order.nodes}
    priced = price_problem(order)
    problem = priced if outcome is None else apply_to_problem(outcome, priced, by_id, request.node_tags)
    solution = strategy.solve(problem)
    promise_kept = True
    if solution.unfilled and problem.require_promise:
        late = strategy.solve(problem.model_copy(update={"require_promise": False}))
        if sum(late.unfilled.values()) < sum(solution.unfilled.values()):
            solution, promise_kept = late, False
    return plan_of(problem, priced, solution, strategy_name=strategy.name, model=order.model, catalog=order.catalog,
                   nodes=by_id, destination=order.destination, now=order.now, promise_kept=promise_kept,
                   outcome=outcome, level=order.level, deliver_by=order.deliver_by,
                   shadow_prices=order.shadow_prices, alternatives=request.alternatives)


def plan_of(
    problem: SourcingProblem,
    priced: SourcingProblem,
    solution: Solution,
    *,
    strategy_name: str,
    model: CostModel,
    catalog: Catalog,
    nodes: Mapping[str, Node],
    destination: GeoPoint,
    now: datetime,
    promise_kept: bool = True,
    outcome: RuleOutcome | None = None,
    level: ServiceLevel | None = None,
    deliver_by: date | None = None,
    shadow_prices: Mapping[tuple[str, str], float] | None = None,
    alternatives: int = 3,
) -> FulfillmentPlan:
    """The plan and decision record of `solution` to `problem` (`priced`: the problem before the order
    rules narrowed it): each shipment quoted from the rate card, the runners-up, the explanation."""
    service_of = {c.node_id: c.service for c in problem.candidates}
    distance_of = {c.node_id: c.distance_km for c in problem.candidates}
    shipments: list[PlannedShipment] = []
    costs: list[ShipmentCost] = []
    for node_id, contents in _by_node(solution).items():
        quote = quote_shipment(model, catalog, nodes[node_id], model.service(service_of[node_id]), contents,
                               destination, now)
        if deliver_by is not None and quote.delivery_date > deliver_by:
            promise_kept = False
        shipments.append(PlannedShipment(node_id=node_id, lines=contents, distance_km=distance_of[node_id],
                                         service=quote.service, delivery_date=quote.delivery_date,
                                         carrier=quote.carrier, carrier_service=quote.carrier_service,
                                         weight_lb=quote.actual_weight_lb, node_kind=nodes[node_id].kind.value))
        costs.append(ShipmentCost(
            node_id=node_id, service=quote.service, zone=quote.zone, billable_weight_lb=quote.billable_weight_lb,
            ship_date=quote.ship_date, delivery_date=quote.delivery_date, total_cents=quote.total_cents,
            parts=[CostPart(label=f"{quote.carrier} {quote.carrier_service} (zone {quote.zone}, "
                                  f"{quote.billable_weight_lb} lb)", cents=quote.carrier_cents),
                   CostPart(label="handling per order", cents=quote.handling_order_cents),
                   CostPart(label="handling per unit", cents=quote.handling_units_cents)],
        ))
    split_penalty = model.split_penalty_cents * max(0, len(shipments) - 1)
    unfillable = _unfillable(problem.lines, solution, priced, problem)
    losers = [
        RunnerUpPlan(label=r.label, nodes=r.solution.nodes(), model_cost_cents=round(r.solution.objective, 2),
                     reason=r.reason)
        for r in runners_up(problem, solution, alternatives)
    ] if shipments else []
    shadow = shadow_prices or {}
    look_ahead_cents = sum(shadow.get((a.node_id, a.sku), 0.0) * a.quantity for a in solution.assignments)
    decision = SourcingDecision(
        strategy="look-ahead" if shadow else strategy_name, look_ahead_cents=round(look_ahead_cents, 2),
        method=solution.method, status=solution.status, solve_ms=round(solution.solve_ms, 3),
        currency=model.currency, total_cents=sum(c.total_cents for c in costs) + split_penalty,
        split_penalty_cents=split_penalty, model_cost_cents=round(solution.objective, 2), shipments=costs,
        runners_up=losers, rules_fired=[str(f) for f in outcome.fired] if outcome is not None else [],
        service_level=level.value if level is not None else None, deliver_by=deliver_by,
        promise_kept=promise_kept, candidates=len(priced.candidates),
    )
    return FulfillmentPlan(shipments=shipments, unfillable=unfillable, strategy=strategy_name,
                           explanation=_explain(decision, unfillable), decision=decision)


def _by_node(solution: Solution) -> dict[str, list[ShipmentLine]]:
    """Each node's lines (one per order line), nodes in the order of their first assignment."""
    out: dict[str, dict[int, ShipmentLine]] = {}
    for a in solution.assignments:
        lines = out.setdefault(a.node_id, {})
        held = lines.get(a.line_no)
        quantity = a.quantity + (held.quantity if held is not None else 0)
        lines[a.line_no] = ShipmentLine(line_no=a.line_no, sku=a.sku, quantity=quantity)
    return {node: [lines[n] for n in sorted(lines)] for node, lines in out.items()}


def _unfillable(
    lines: Sequence[ShipmentLine], solution: Solution, priced: SourcingProblem, problem: SourcingProblem
) -> list[UnfillableLine]:
    out = []
    by_no = {line.line_no: line for line in lines}
    for line_no, short in sorted(solution.unfilled.items()):
        if short <= 0:
            continue
        line = by_no[line_no]
        in_network = sum(c.atp.get(line.sku, 0) for c in priced.candidates)
        allowed = sum(c.atp.get(line.sku, 0) for c in problem.candidates)
        if in_network < line.quantity:
            reason = f"no stock: {short} of {line.quantity} cannot be promised from any node"
        elif allowed < line.quantity:
            reason = f"{short} of {line.quantity} only at nodes the order rules exclude"
        else:
            reason = f"{short} of {line.quantity} left unfilled: the order's constraints (ship complete, "
            reason += "shipment limit, capacity) leave no node able to take them"
        out.append(UnfillableLine(line_no=line_no, sku=line.sku, quantity=short, reason=reason))
    return out


def _explain(decision: SourcingDecision, unfillable: Sequence[UnfillableLine]) -> list[str]:
    cents = decision.total_cents
    lines = [f"{decision.strategy} ({decision.method}, {decision.candidates} nodes priced): "
             f"{len(decision.shipments)} shipment(s), {cents / 100:.2f} {decision.currency}"]
    lines += [f"{s.node_id} by {s.service}: delivers {s.delivery_date.isoformat()}, {s.total_cents / 100:.2f}"
              for s in decision.shipments]
    if decision.look_ahead_cents:
        lines.append(f"look-ahead: the stock used is worth {decision.look_ahead_cents / 100:.2f} to orders to come")
    if not decision.promise_kept:
        lines.append("the promised delivery cannot be kept from any node with stock: shipping late")
    lines += [f"runner-up {r.label} ({', '.join(r.nodes)}): {r.reason}" for r in decision.runners_up]
    lines += decision.rules_fired
    lines += [f"line {u.line_no} ({u.sku}): {u.reason}" for u in unfillable]
    return lines
