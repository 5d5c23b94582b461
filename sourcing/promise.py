"""Delivery promises: the earliest date each service level can deliver a cart, and who can deliver by a date.

Only stock the snapshot shows is promised, only from active shipping nodes with capacity left
today, and every price is an exact quote (`sourcing.costs.quote_shipment`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from models.address import GeoPoint
from models.catalog import Catalog
from models.costs import CarrierService, CostModel, NodeDelivery, PromiseOption, ServiceLevel
from models.network import Capability, Node
from models.shipment import ShipmentLine
from sourcing.costs import billable_weight_lb, quote_shipment, rate_cents
from sourcing.inputs import Atp, SourcingInput
from sourcing.pricing import Lane, fillable, keeps_promise, lane


@dataclass(frozen=True)
class _Reach:
    """A node's fastest service of one level to the destination, and the stock it holds of the cart."""

    lane: Lane
    stock: dict[str, int]
    service: CarrierService
    delivered: date


def promise(request: SourcingInput) -> list[PromiseOption]:
    """Per service level (standard, two_day, next_day; those the model has): the earliest date the
    network can deliver the whole cart and what the shipments cost.

    One node if any can ship the whole cart (the earliest, then the cheapest); else the split that
    covers the cart with the earliest last delivery, built greedily from nodes that arrive by then.
    A level that cannot cover the cart gives no option. The request's `level`, `deliver_by` and
    `shadow_prices` play no part: every level is answered, at its exact price.
    """
    lines, destination, model, catalog, now = (request.lines, request.destination, request.model, request.catalog,
                                                request.now)
    lanes = _lanes(lines, destination, request.nodes, request.atp, model, now, request.shipments_today or {})
    options: list[PromiseOption] = []
    for level in ServiceLevel:
        services = [s for s in model.services if s.level is level]
        reach = [r for r in (_fastest(catalog, lane_, stock, lines, services) for lane_, stock in lanes) if r]
        singles = [[quote_shipment(model, catalog, r.lane.node, r.service, lines, destination, now)]
                   for r in _earliest_whole(lines, reach)]
        if singles:
            quotes = min(singles, key=lambda q: (q[0].total_cents, q[0].node_id))
        else:
            plan = _split(lines, reach)
            if plan is None:
                continue
            quotes = [quote_shipment(model, catalog, r.lane.node, r.service, contents, destination, now)
                      for r, contents in plan]
        options.append(PromiseOption(
            level=level,
            service="+".join(sorted({q.service for q in quotes})),
            delivery_date=max(q.delivery_date for q in quotes),
            price_cents=sum(q.total_cents for q in quotes),
            node_ids=[q.node_id for q in quotes],
            shipments=quotes,
        ))
    return options


def nodes_delivering_by(
    sku: str,
    quantity: int,
    destination: GeoPoint,
    by: date,
    nodes: Sequence[Node],
    atp: Atp,
    model: CostModel,
    catalog: Catalog,
    now: datetime,
    level: ServiceLevel | None = None,
    *,
    shipments_today: Mapping[str, int] | None = None,
) -> list[NodeDelivery]:
    """Nodes that can ship `quantity` of `sku` alone and have it arrive by `by`, each with its cheapest
    such service (of `level` or faster, when given); earliest delivery first, then by node id."""
    line = [ShipmentLine(line_no=1, sku=sku, quantity=quantity)]
    found: list[NodeDelivery] = []
    for lane_, _ in _lanes(line, destination, nodes, atp, model, now, shipments_today or {}, whole=True):
        best: tuple[int, date, str] | None = None
        for service in model.services:
            delivered = lane_.delivery(service)
            if delivered is None or not keeps_promise(service, delivered, level, by):
                continue
            price = rate_cents(service, lane_.zone, billable_weight_lb(line, catalog, service.dim_divisor))
            if best is None or (price, delivered, service.name) < best:
                best = (price, delivered, service.name)
        if best is not None:
            found.append(NodeDelivery(node_id=lane_.node.node_id, delivery_date=best[1], service=best[2]))
    return sorted(found, key=lambda d: (d.delivery_date, d.node_id))


def _lanes(
    lines: Sequence[ShipmentLine],
    destination: GeoPoint,
    nodes: Sequence[Node],
    atp: Atp,
    model: CostModel,
    now: datetime,
    shipments_today: Mapping[str, int],
    whole: bool = False,
) -> list[tuple[Lane, dict[str, int]]]:
    """Nodes that may ship now and hold some of the cart (all of it, when `whole`), with that stock."""
    wanted: dict[str, int] = {}
    for line in lines:
        wanted[line.sku] = wanted.get(line.sku, 0) + line.quantity
    out: list[tuple[Lane, dict[str, int]]] = []
    for node in nodes:
        if not node.can(Capability.SHIP):
            continue
        held = atp.get(node.node_id, {})
        stock = {sku: units for sku in wanted if (units := held.get(sku, 0)) > 0}
        if not stock or (whole and any(stock.get(sku, 0) < units for sku, units in wanted.items())):
            continue
        route = lane(model, node, destination, now)
        if route is None:
            continue
        capacity = route.costs.daily_capacity
        if capacity is not None and shipments_today.get(node.node_id, 0) >= capacity:
            continue
        out.append((route, stock))
    return out


def _fastest(
    catalog: Catalog,
    route: Lane,
    stock: dict[str, int],
    lines: Sequence[ShipmentLine],
    services: Sequence[CarrierService],
) -> _Reach | None:
    contents = fillable(lines, stock)
    best: tuple[date, int, str, CarrierService] | None = None
    for service in services:
        delivered = route.delivery(service)
        if delivered is None:
            continue
        price = rate_cents(service, route.zone, billable_weight_lb(contents, catalog, service.dim_divisor))
        if best is None or (delivered, price, service.name) < best[:3]:
            best = (delivered, price, service.name, service)
    if best is None:
        return None
    return _Reach(lane=route, stock=stock, service=best[3], delivered=best[0])


def _earliest_whole(lines: Sequence[ShipmentLine], reach: Sequence[_Reach]) -> list[_Reach]:
    """The nodes that can ship the whole cart and deliver it soonest."""
    whole = [r for r in reach if _units(fillable(lines, r.stock)) == _units(lines)]
    if not whole:
        return []
    soonest = min(r.delivered for r in whole)
    return [r for r in whole if r.delivered == soonest]


def _split(lines: Sequence[ShipmentLine], reach: Sequence[_Reach]) -> list[tuple[_Reach, list[ShipmentLine]]] | None:
    for by in sorted({r.delivered for r in reach}):
        pool = [r for r in reach if r.delivered <= by]
        remaining = list(lines)
        plan: list[tuple[_Reach, list[ShipmentLine]]] = []
        while remaining and pool:
            best = min(pool, key=lambda r: (-_units(fillable(remaining, r.stock)), r.delivered, r.lane.zone,
                                            r.lane.node.node_id))
            contents = fillable(remaining, best.stock)
            if not contents:
                break
            plan.append((best, contents))
            pool = [r for r in pool if r is not best]
            remaining = _minus(remaining, contents)
        if not remaining:
            return plan
    return None


def _units(lines: Sequence[ShipmentLine]) -> int:
    return sum(line.quantity for line in lines)


def _minus(lines: Sequence[ShipmentLine], shipped: Sequence[ShipmentLine]) -> list[ShipmentLine]:
    taken = {line.line_no: line.quantity for line in shipped}
    left: list[ShipmentLine] = []
    for line in lines:
        rest = line.quantity - taken.get(line.line_no, 0)
        if rest > 0:
            left.append(ShipmentLine(line_no=line.line_no, sku=line.sku, quantity=rest))
    return left

