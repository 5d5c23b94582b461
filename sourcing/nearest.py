"""Nearest-node sourcing: each line goes to the nearest node that can fill it; split when none can.

This is the baseline strategy. It never promises stock that the snapshot does not show, and it
explains every choice it makes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pydantic import BaseModel, Field

from models.address import GeoPoint
from models.network import Node
from models.plan import FulfillmentPlan, PlannedShipment, UnfillableLine
from models.shipment import ShipmentLine
from sourcing.geo import haversine_km, locate


class Candidate(BaseModel):
    """A node that may ship: where it is and what it can promise per SKU right now."""

    node_id: str
    point: GeoPoint
    atp: dict[str, int] = Field(default_factory=dict)


def plan_nearest(
    lines: Sequence[ShipmentLine],
    destination: GeoPoint | None,
    candidates: Sequence[Candidate],
) -> FulfillmentPlan:
    """Assign each line's quantity to nodes, nearest first, within each node's ATP."""
    if destination is None:
        return FulfillmentPlan(
            unfillable=[
                UnfillableLine(line_no=line.line_no, sku=line.sku, quantity=line.quantity,
                               reason="the ship-to address could not be located")
                for line in lines
            ],
            explanation=["ship-to address has no known location: nothing can be planned"],
        )
    distance = {c.node_id: haversine_km(c.point, destination) for c in candidates}
    by_distance = sorted(candidates, key=lambda c: (distance[c.node_id], c.node_id))
    remaining: dict[str, dict[str, int]] = {c.node_id: dict(c.atp) for c in candidates}
    assigned: dict[str, list[ShipmentLine]] = {}
    unfillable: list[UnfillableLine] = []
    explanation: list[str] = []

    for line in lines:
        whole = next((c for c in by_distance if remaining[c.node_id].get(line.sku, 0) >= line.quantity), None)
        if whole is not None:
            _take(remaining, assigned, whole.node_id, line, line.quantity)
            explanation.append(
                f"line {line.line_no} ({line.sku} x{line.quantity}): {whole.node_id}, "
                f"nearest node with enough stock ({distance[whole.node_id]:.0f} km)"
            )
            continue
        parts = _split(line, by_distance, remaining, assigned)
        if parts:
            explanation.append(
                f"line {line.line_no} ({line.sku} x{line.quantity}): no single node has enough; split "
                + ", ".join(f"{node} x{qty}" for node, qty in parts)
            )
        filled = sum(qty for _, qty in parts)
        if filled < line.quantity:
            short = line.quantity - filled
            unfillable.append(UnfillableLine(
                line_no=line.line_no, sku=line.sku, quantity=short,
                reason=f"no stock: {short} of {line.quantity} cannot be promised from any node",
            ))
            explanation.append(f"line {line.line_no} ({line.sku}): {short} unit(s) unfillable")

    shipments = [
        PlannedShipment(node_id=node_id, lines=node_lines, distance_km=round(distance[node_id], 1))
        for node_id, node_lines in sorted(assigned.items(), key=lambda kv: (distance[kv[0]], kv[0]))
    ]
    return FulfillmentPlan(shipments=shipments, unfillable=unfillable, strategy="nearest", explanation=explanation)


def plan_nearest_from(
    lines: Sequence[ShipmentLine],
    destination: GeoPoint | None,
    nodes: Sequence[Node],
    atp: Mapping[str, Mapping[str, int]],
) -> FulfillmentPlan:
    """`plan_nearest` over the `nodes` that hold stock in `atp` (node id -> SKU -> units) and can be
    located; the caller has already chosen which nodes may ship. The plan made without a cost model."""
    candidates = [Candidate(node_id=node.node_id, point=point, atp=dict(atp[node.node_id]))
                  for node in nodes if node.node_id in atp and (point := locate(node)) is not None]
    plan = plan_nearest(lines, destination, candidates)
    kind_of = {node.node_id: node.kind.value for node in nodes}
    for shipment in plan.shipments:
        shipment.node_kind = kind_of.get(shipment.node_id)
    return plan


def _split(
    line: ShipmentLine,
    by_distance: Sequence[Candidate],
    remaining: Mapping[str, dict[str, int]],
    assigned: dict[str, list[ShipmentLine]],
) -> list[tuple[str, int]]:
    needed = line.quantity
    parts: list[tuple[str, int]] = []
    for candidate in by_distance:
        if needed == 0:
            break
        take = min(needed, remaining[candidate.node_id].get(line.sku, 0))
        if take > 0:
            _take(remaining, assigned, candidate.node_id, line, take)
            parts.append((candidate.node_id, take))
            needed -= take
    return parts


def _take(
    remaining: Mapping[str, dict[str, int]],
    assigned: dict[str, list[ShipmentLine]],
    node_id: str,
    line: ShipmentLine,
    quantity: int,
) -> None:
    remaining[node_id][line.sku] -= quantity
    assigned.setdefault(node_id, []).append(ShipmentLine(line_no=line.line_no, sku=line.sku, quantity=quantity))


def nearest_node(point: GeoPoint, nodes: Sequence[tuple[str, GeoPoint]]) -> str | None:
    """The id of the node closest to `point` (ties broken by id), or None if there are none."""
    if not nodes:
        return None
    return min(nodes, key=lambda n: (haversine_km(n[1], point), n[0]))[0]
