"""Turn an order and the network into a `SourcingProblem`: each stocked node, priced for this destination.

A rate card is a step function of whole billable pounds, so the problem carries a linear
stand-in that a MILP can sum over any assignment:

- shipment_cost = handling per order + the card's price of a 1 lb parcel at the node's zone;
- unit_cost[sku] = handling per unit + the card's marginal price per pound at that zone
  (`sourcing.costs.marginal_cents_per_lb`) x one unit's unrounded billable weight
  + the caller's shadow price + the store-protection penalty.

For a card whose price rises by the same amount per pound, the stand-in never undercuts the exact
price, and when every unit is billed by the same measure (weight, or volume) it exceeds it by less
than one pound's marginal price: the exact price rounds the parcel's weight up, the stand-in counts
the first pound twice. Exact prices of a chosen plan come from `sourcing.costs.quote_shipment`.

The store-protection penalty charges `store_protect_cents` for each unit a store gives from its
last `store_protect_units` of a SKU, spread over the units it would give: exact when the store
ships all it can of the order's quantity.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from models.address import GeoPoint
from models.catalog import Catalog
from models.costs import CarrierService, CostModel, LinearCostModel, NodeCosts, ServiceLevel
from models.network import Capability, Node, NodeKind
from models.shipment import ShipmentLine
from sourcing.calendar import delivery_date, ship_date
from sourcing.costs import (
    KM_PER_MILE,
    billable_weight_lb,
    marginal_cents_per_lb,
    miles_between,
    rate_cents,
    unit_billable_lb,
    zone_for_miles,
)
from sourcing.geo import haversine_km, locate
from sourcing.inputs import Atp, SourcingInput
from sourcing.problem import PricedCandidate, SourcingProblem


@dataclass(frozen=True)
class Lane:
    """One node to one destination today: distance, zone, the node's costs and its ship date."""

    node: Node
    costs: NodeCosts
    miles: float
    zone: int
    ship_date: date

    def delivery(self, service: CarrierService) -> date | None:
        """When `service` delivers from here, or None when it does not serve this zone."""
        column = service.served_zone(self.zone)
        if column is None:
            return None
        return delivery_date(self.ship_date, service.transit_days[column], service.delivers_saturday)


def lane(model: CostModel, node: Node, destination: GeoPoint, now: datetime) -> Lane | None:
    """The lane from `node`, or None when the node cannot be located."""
    origin = locate(node)
    if origin is None:
        return None
    miles = miles_between(origin, destination)
    costs = model.node_costs(node.node_id, node.kind)
    return Lane(node=node, costs=costs, miles=miles, zone=zone_for_miles(miles, model.zone_chart),
                ship_date=ship_date(costs, now))


def keeps_promise(
    service: CarrierService, delivered: date, level: ServiceLevel | None, deliver_by: date | None
) -> bool:
    """A service keeps a level when it is that level or faster, and a date when it arrives by it."""
    if level is not None and not service.level.at_least(level):
        return False
    return deliver_by is None or delivered <= deliver_by


def fillable(lines: Sequence[ShipmentLine], stock: Mapping[str, int]) -> list[ShipmentLine]:
    """What a node with `stock` can ship of `lines`, line by line in order."""
    left = dict(stock)
    out: list[ShipmentLine] = []
    for line in lines:
        take = min(line.quantity, left.get(line.sku, 0))
        if take > 0:
            left[line.sku] -= take
            out.append(ShipmentLine(line_no=line.line_no, sku=line.sku, quantity=take))
    return out


def price_problem(request: SourcingInput) -> SourcingProblem:
    """Price every active shipping node that stocks a SKU of the order.

    Per node the service is the cheapest (exact price of what the node can ship) that keeps the
    promise; when none does, the earliest-delivering one, with `meets_promise=False`. Nodes that
    cannot be located, or that no service reaches, are left out.
    """
    lines, destination, atp = request.lines, request.destination, request.atp
    model, catalog = request.model, request.catalog
    wanted = _quantities(lines)
    shadow = request.shadow_prices or {}
    shipments_today = request.shipments_today or {}
    candidates: list[PricedCandidate] = []
    for node in request.nodes:
        stock = _stock_for(node, atp, wanted)
        route = lane(model, node, destination, request.now) if stock else None
        if route is None:
            continue
        contents = fillable(lines, stock)
        chosen = _choose_service(model, catalog, route, contents, request.level, request.deliver_by)
        if chosen is None:
            continue
        service, delivered, meets = chosen
        candidates.append(PricedCandidate(
            node_id=node.node_id,
            service=service.name,
            distance_km=round(route.miles * KM_PER_MILE, 3),
            delivery_date=delivered,
            meets_promise=meets,
            shipment_cost=float(route.costs.handling_per_order_cents + rate_cents(service, route.zone, 1)),
            unit_cost={
                sku: _unit_cost(model, catalog, route, service, sku, stock[sku], wanted[sku])
                + shadow.get((node.node_id, sku), 0.0)
                for sku in stock
            },
            atp=stock,
            capacity_left=_capacity_left(route.costs, shipments_today.get(node.node_id, 0)),
        ))
    return SourcingProblem(
        order_id=request.order_id, lines=list(lines), candidates=candidates,
        split_penalty=float(model.split_penalty_cents), unfilled_penalty=float(model.unfilled_penalty_cents),
    )


def price_linear_problem(
    order_id: str,
    lines: Sequence[ShipmentLine],
    destination: GeoPoint,
    nodes: Sequence[tuple[str, GeoPoint]],
    atp: Atp,
    model: LinearCostModel,
) -> SourcingProblem:
    """The literature's form: a fixed cost per shipment, per unit a cost plus a cost per haversine mile.
    No services or dates: every candidate keeps the (absent) promise."""
    wanted = _quantities(lines)
    candidates: list[PricedCandidate] = []
    for node_id, point in nodes:
        stock = {sku: units for sku in wanted if (units := atp.get(node_id, {}).get(sku, 0)) > 0}
        if not stock:
            continue
        km = haversine_km(point, destination)
        per_unit = model.per_unit_cents + model.per_unit_mile_cents * km / KM_PER_MILE
        candidates.append(PricedCandidate(
            node_id=node_id, service="linear", distance_km=round(km, 3),
            shipment_cost=model.fixed_per_shipment_cents, unit_cost={sku: per_unit for sku in stock}, atp=stock,
        ))
    return SourcingProblem(
        order_id=order_id, lines=list(lines), candidates=candidates,
        split_penalty=model.split_penalty_cents, unfilled_penalty=model.unfilled_penalty_cents,
    )


def _choose_service(
    model: CostModel,
    catalog: Catalog,
    route: Lane,
    contents: Sequence[ShipmentLine],
    level: ServiceLevel | None,
    deliver_by: date | None,
) -> tuple[CarrierService, date, bool] | None:
    options: list[tuple[int, date, str, CarrierService]] = []
    for service in model.services:
        delivered = route.delivery(service)
        if delivered is not None:
            price = rate_cents(service, route.zone, billable_weight_lb(contents, catalog, service.dim_divisor))
            options.append((price, delivered, service.name, service))
    if not options:
        return None
    keeping = [o for o in options if keeps_promise(o[3], o[1], level, deliver_by)]
    if keeping:
        price, delivered, _, service = min(keeping, key=lambda o: (o[0], o[1], o[2]))
        return service, delivered, True
    price, delivered, _, service = min(options, key=lambda o: (o[1], o[0], o[2]))
    return service, delivered, False


def _unit_cost(
    model: CostModel, catalog: Catalog, route: Lane, service: CarrierService, sku: str, stock: int, wanted: int
) -> float:
    weight = unit_billable_lb(catalog.get(sku), service.dim_divisor)
    cost = route.costs.handling_per_unit_cents + marginal_cents_per_lb(service, route.zone) * weight
    if route.node.kind is NodeKind.STORE and model.store_protect_units > 0:
        given = min(wanted, stock)
        protected = max(0, given - max(0, stock - model.store_protect_units))
        cost += model.store_protect_cents * protected / given
    return cost


def _capacity_left(costs: NodeCosts, shipped_today: int) -> int | None:
    if costs.daily_capacity is None:
        return None
    return max(0, costs.daily_capacity - shipped_today)


def _quantities(lines: Sequence[ShipmentLine]) -> dict[str, int]:
    wanted: dict[str, int] = {}
    for line in lines:
        wanted[line.sku] = wanted.get(line.sku, 0) + line.quantity
    return wanted


def _stock_for(node: Node, atp: Atp, wanted: Mapping[str, int]) -> dict[str, int]:
    if not node.can(Capability.SHIP):
        return {}
    held = atp.get(node.node_id, {})
    return {sku: units for sku in wanted if (units := held.get(sku, 0)) > 0}
