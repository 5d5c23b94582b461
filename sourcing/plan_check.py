"""Does a plan keep the order's rules? One answer for every place that asks: the nodes an order may be
planned from and the swap of a waiting order's reservations to a wave's plan (activities.inventory),
the runners-up an operator reads (sourcing.alternatives), the optimiser's shipment row. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from models.network import Capability, Node
from models.plan import FulfillmentPlan
from models.rules import RuleOutcome


def may_ship_from(node: Node | None, outcome: RuleOutcome | None) -> bool:
    """A node in the network that ships and that no fired rule excludes."""
    return node is not None and node.can(Capability.SHIP) and (outcome is None or outcome.allows(node))


def shipment_limit(max_shipments: int | None, ship_complete: bool) -> int | None:
    """The most shipments a plan may have: one under ship complete, else max_shipments (None: no limit)."""
    return 1 if ship_complete else max_shipments


@dataclass(frozen=True)
class ShipmentCheck:
    """A plan's shipments against the order's shipment rules.

    `over_limit`: more shipments than `limit` allows. `broken`: each rule broken, in words ("more than
    2 shipment(s)", "not shipped complete"; ship complete is broken by a split and by unshipped units).
    """

    limit: int | None
    over_limit: bool
    broken: list[str] = field(default_factory=list)


def check_shipments(node_ids: Sequence[str], *, unfilled: bool, max_shipments: int | None,
                    ship_complete: bool) -> ShipmentCheck:
    """Check a plan shipping from `node_ids` (one shipment per node); `unfilled`: it leaves units unshipped."""
    limit = shipment_limit(max_shipments, ship_complete)
    broken = []
    if max_shipments is not None and len(node_ids) > max_shipments:
        broken.append(f"more than {max_shipments} shipment(s)")
    if ship_complete and node_ids and (len(node_ids) > 1 or unfilled):
        broken.append("not shipped complete")
    return ShipmentCheck(limit=limit, over_limit=limit is not None and len(node_ids) > limit, broken=broken)


def why_plan_refused(plan: FulfillmentPlan, nodes: Mapping[str, Node], outcome: RuleOutcome | None) -> str | None:
    """Why an order with rule `outcome` on the network `nodes` may not take `plan` (a new plan for its
    waiting shipments), or None when it may: every shipment from a node that may ship, and no more
    shipments than the rules allow."""
    for shipment in plan.shipments:
        if not may_ship_from(nodes.get(shipment.node_id), outcome):
            return f"the order's rules or the network exclude {shipment.node_id}"
    check = check_shipments([s.node_id for s in plan.shipments], unfilled=bool(plan.unfillable),
                            max_shipments=outcome.max_shipments if outcome is not None else None,
                            ship_complete=outcome.ship_complete if outcome is not None else False)
    if check.over_limit:
        return f"the order's rules allow at most {check.limit} shipment(s)"
    return None
