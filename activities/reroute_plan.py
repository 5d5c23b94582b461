"""What the reroute activity (`InventoryActivities.reroute`) computes before and after it moves the
reservations: whether the chosen node may ship, the shipment re-planned from that node alone (priced
by sourcing as any plan is), and the order's decision amended with the move. Pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from models.catalog import Catalog
from models.costs import CostModel
from models.inventory import ReservationItem
from models.names import reroute_reservation_key
from models.network import Capability, Node
from models.plan import FulfillmentPlan, ShipmentCost, SourcingDecision
from models.reroute import ReplanShipment
from models.shipment import ShipmentLine
from sourcing.decide import decide
from sourcing.geo import locate
from sourcing.inputs import DecisionInput, SourcingInput
from sourcing.nearest import plan_nearest_from
from sourcing.problem import Strategy


def why_node_refused(node: Node | None, request: ReplanShipment) -> str | None:
    """Why the shipment may not move to `node` (None: it may)."""
    if node is None:
        return f"unknown node {request.node_id!r}"
    if not node.active:
        return f"node {node.node_id} is inactive"
    if not node.can(Capability.SHIP):
        return f"node {node.node_id} does not ship (its capabilities: {', '.join(node.capabilities) or 'none'})"
    if request.rules is not None and not request.rules.allows(node):
        return f"the order's rules exclude node {node.node_id}"
    if locate(node) is None:
        return f"node {node.node_id} has no location to ship from"
    return None


def replan_from(node: Node, request: ReplanShipment, model: CostModel | None, catalog: Catalog,
                strategy: Strategy, now: datetime) -> FulfillmentPlan:
    """The shipment's lines planned from `node` alone: with a cost model, sourcing's decision (the
    service that keeps the promise most cheaply, its exact cost and delivery date); without one, the
    nearest-node plan. The lines are priced as if the node held them: whether it does is the
    reservation's to say, in the same transaction that takes them."""
    wanted = _units(request.lines)
    atp = {node.node_id: wanted}
    destination = locate(request.ship_to)
    if model is None or destination is None:
        return plan_nearest_from(request.lines, destination, [node], atp)
    return decide(DecisionInput(
        order=SourcingInput(order_id=request.order_id, lines=request.lines, destination=destination, nodes=[node],
                            atp=atp, model=model, catalog=catalog, now=now, level=request.service_level,
                            deliver_by=request.deliver_by),
        strategy=strategy, outcome=request.rules, alternatives=0,
    ))


def why_plan_unusable(plan: FulfillmentPlan, node_id: str) -> str | None:
    """Why the re-plan cannot replace the shipment (None: one shipment from `node_id` with every unit)."""
    if plan.decision is not None and plan.decision.candidates == 0:
        return f"no carrier service of the cost model reaches the ship-to address from {node_id}"
    if plan.unfillable:
        return f"{node_id} cannot ship " + "; ".join(f"{u.sku} x{u.quantity}: {u.reason}" for u in plan.unfillable)
    if [s.node_id for s in plan.shipments] != [node_id]:
        return f"{node_id} cannot ship these lines"
    return None


def reservations_at(node_id: str, request: ReplanShipment) -> tuple[dict[str, str], list[ReservationItem]]:
    """The new reservation per SKU (its key from the shipment and the reroute number, so that a retry
    makes the same ones)."""
    keys: dict[str, str] = {}
    items: list[ReservationItem] = []
    for sku, quantity in _units(request.lines).items():
        keys[sku] = reroute_reservation_key(request.shipment_id, request.reroute_no, sku)
        items.append(ReservationItem(key=keys[sku], node_id=node_id, sku=sku, quantity=quantity))
    return keys, items


def cost_at(decision: SourcingDecision | None, node_id: str) -> ShipmentCost | None:
    """The priced cost of the decision's shipment from `node_id`, if it has one."""
    if decision is None:
        return None
    return next((cost for cost in decision.shipments if cost.node_id == node_id), None)


def amend_decision(decision: SourcingDecision, request: ReplanShipment, replanned: SourcingDecision | None,
                   explanation: str) -> SourcingDecision:
    """The order's decision with the shipment's cost moved to its new node, the total and the promise
    recomputed, and `explanation` appended to its amendments."""
    old = cost_at(decision, request.from_node_id)
    new = replanned.shipments[0] if replanned is not None and replanned.shipments else None
    shipments = [cost for cost in decision.shipments if cost is not old]
    if new is not None:
        shipments.append(new)
    total = decision.total_cents - (old.total_cents if old else 0) + (new.total_cents if new else 0)
    if request.deliver_by is not None:
        kept = all(cost.delivery_date <= request.deliver_by for cost in shipments)
    else:
        kept = decision.promise_kept
    if replanned is not None:
        kept = kept and replanned.promise_kept
    return decision.model_copy(update={"shipments": shipments, "total_cents": total, "promise_kept": kept,
                                       "amendments": [*decision.amendments, explanation]})


def explain(request: ReplanShipment, currency: str, cost_before: int | None, cost_after: int | None,
            delivery_after: date | None) -> str:
    """"{shipment} rerouted from A to B by <actor> (<reason>): cost X → Y, delivery D1 → D2"."""
    def money(cents: int | None) -> str:
        return "n/a" if cents is None else f"{cents / 100:.2f} {currency}"

    def day(when: date | None) -> str:
        return "n/a" if when is None else when.isoformat()

    return (f"{request.shipment_id} rerouted from {request.from_node_id} to {request.node_id} by {request.actor} "
            f"({request.reason}): cost {money(cost_before)} → {money(cost_after)}, "
            f"delivery {day(request.delivery_before)} → {day(delivery_after)}")


def _units(lines: Sequence[ShipmentLine]) -> dict[str, int]:
    wanted: dict[str, int] = {}
    for line in lines:
        wanted[line.sku] = wanted.get(line.sku, 0) + line.quantity
    return wanted
