"""Does a plan keep the order's rules? One answer for every place that asks: the runners-up an operator
reads (sourcing.alternatives), the nodes an order may be planned from, and the swap of a waiting order's
reservations to a wave's plan (activities.inventory). Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from models.network import Capability, Node
from models.plan import FulfillmentPlan
from models.rules import RuleOutcome


def may_ship_from(node: Node | None, outcome: RuleOutcome | None) -> bool:
    """A node in the network that ships and that no fired rule excludes."""
    return node is not None and node.can(Capability.SHIP) and (outcome is None or outcome.allows(node))


def shipment_limit(max_shipments: int | None, ship_complete: bool) -> int | None:
    """The most shipments a plan may have: one under ship complete, else max_shipments (None: no limit)."""
    return 1 if ship_complete else max_shipments


def broken_limits(node_ids: Sequence[str], *, unfilled: bool, max_shipments: int | None,
                  ship_complete: bool) -> list[str]:
    """The shipment rules a plan shipping from `node_ids` (one shipment per node) breaks, in words;
    `unfilled`: the plan leaves units unshipped, which ship complete forbids too."""
    broken = []
    if max_shipments is not None and len(node_ids) > max_shipments:
        broken.append(f"more than {max_shipments} shipment(s)")
    if ship_complete and node_ids and (len(node_ids) > 1 or unfilled):
        broken.append("not shipped complete")
    return broken


def plan_breaks_rules(plan: FulfillmentPlan, nodes: Mapping[str, Node], outcome: RuleOutcome | None) -> list[str]:
    """Why `plan` may not be taken by an order with `outcome` on the network `nodes`, in words; empty
    when it may: every shipment from a node that may ship, within the shipment rules."""
    node_ids = [shipment.node_id for shipment in plan.shipments]
    broken = [f"the order's rules or the network exclude {node_id}"
              for node_id in node_ids if not may_ship_from(nodes.get(node_id), outcome)]
    return broken + broken_limits(node_ids, unfilled=bool(plan.unfillable),
                                  max_shipments=outcome.max_shipments if outcome is not None else None,
                                  ship_complete=outcome.ship_complete if outcome is not None else False)
