"""When an order held for a release wave stops waiting. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from models.costs import CostModel
from models.network import Node
from models.plan import FulfillmentPlan
from sourcing.calendar import next_cutoff


def release_at(
    model: CostModel | None, plan: FulfillmentPlan, network: Sequence[Node], now: datetime
) -> datetime | None:
    """With release waves on: when the plan's shipments stop waiting, `hold_minutes` from now or
    `release_before_cutoff_minutes` before the earliest cut-off of their nodes, whichever is first;
    None (release now) when waves are off, nothing ships, or that moment has passed. A shipment
    from a node not in `network` does not move the moment."""
    if model is None or model.waves is None or not plan.shipments:
        return None
    release = now + timedelta(minutes=model.waves.hold_minutes)
    kinds = {node.node_id: node.kind for node in network}
    lead = timedelta(minutes=model.waves.release_before_cutoff_minutes)
    for shipment in plan.shipments:
        if shipment.node_id in kinds:
            costs = model.node_costs(shipment.node_id, kinds[shipment.node_id])
            release = min(release, next_cutoff(costs, now).astimezone(UTC) - lead)
    return release if release > now else None
