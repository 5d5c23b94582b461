"""Parcel prices from rate cards: zone by distance, billable weight, the card's price, a full quote.

A parcel's billable weight is the larger of its actual and its dimensional weight (volume / the
service's divisor), each rounded up to a whole pound, at least 1 lb. The box is taken to be the
items' total volume (no void fill), which is exact for one item in its own carton.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime

from models.address import GeoPoint
from models.catalog import Catalog, SkuAttributes
from models.costs import DEFAULT_ZONE_CHART, CarrierService, CostModel, ShipmentQuote, ZoneBand
from models.network import Node
from models.shipment import ShipmentLine
from sourcing.calendar import ship_and_delivery
from sourcing.geo import haversine_km, locate

KM_PER_MILE = 1.609344
# Float sums of unit weights (0.1 + 0.2) must not round up to the next pound.
_EPSILON = 1e-9


def miles_between(a: GeoPoint, b: GeoPoint) -> float:
    return haversine_km(a, b) / KM_PER_MILE


def zone_for_miles(miles: float, chart: Sequence[ZoneBand] = DEFAULT_ZONE_CHART) -> int:
    """The zone of the first band whose `max_miles` is at least `miles` (the last band is unbounded)."""
    if miles < 0:
        raise ValueError(f"miles must not be negative, got {miles}")
    for band in chart:
        if band.max_miles is None or miles <= band.max_miles:
            return band.zone
    raise ValueError("the zone chart has no unbounded last band")


def actual_weight_lb(items: Sequence[ShipmentLine], catalog: Catalog) -> float:
    return sum(catalog.get(item.sku).weight_lb * item.quantity for item in items)


def billable_weight_lb(items: Sequence[ShipmentLine], catalog: Catalog, dim_divisor: int) -> int:
    """Whole billable pounds of one parcel holding `items`: max(actual, dimensional), rounded up, min 1."""
    actual = actual_weight_lb(items, catalog)
    cubic = sum(catalog.get(item.sku).cubic_in * item.quantity for item in items)
    return max(1, _round_up(actual), _round_up(cubic / dim_divisor))


def unit_billable_lb(attributes: SkuAttributes, dim_divisor: int) -> float:
    """One unit's share of billable weight, unrounded: what it adds to a parcel (for linear costs)."""
    return max(attributes.weight_lb, attributes.cubic_in / dim_divisor)


def rate_cents(service: CarrierService, zone: int, billable_lb: int) -> int:
    """The card's price for a chart zone and whole billable pounds; beyond the last row, `extra_lb_cents`
    per further pound."""
    column = service.served_zone(zone)
    if column is None:
        raise ValueError(f"{service.name} does not serve zone {zone}")
    if billable_lb < 1:
        raise ValueError(f"billable weight must be at least 1 lb, got {billable_lb}")
    last = service.max_weight_lb
    if billable_lb <= last:
        return service.rates[billable_lb][column]
    return service.rates[last][column] + service.extra_lb_cents * (billable_lb - last)


def marginal_cents_per_lb(service: CarrierService, zone: int) -> float:
    """The card's average price of one more pound in a zone: the slope from its 1 lb row to its last
    row (`extra_lb_cents` for a one-row card)."""
    last = service.max_weight_lb
    if last == 1:
        return float(service.extra_lb_cents)
    return (rate_cents(service, zone, last) - rate_cents(service, zone, 1)) / (last - 1)


def quote_shipment(
    model: CostModel,
    catalog: Catalog,
    node: Node,
    service: CarrierService,
    contents: Sequence[ShipmentLine],
    destination: GeoPoint,
    now: datetime,
) -> ShipmentQuote:
    """The exact price and dates of one parcel of `contents` from `node` to `destination`.

    Raises ValueError when the parcel is empty, the node cannot be located, or the service does
    not serve the zone.
    """
    if not contents:
        raise ValueError("a shipment needs at least one line")
    origin = locate(node)
    if origin is None:
        raise ValueError(f"node {node.node_id} has no coordinates and no known US postal code")
    miles = miles_between(origin, destination)
    zone = zone_for_miles(miles, model.zone_chart)
    costs = model.node_costs(node.node_id, node.kind)
    billable = billable_weight_lb(contents, catalog, service.dim_divisor)
    carrier = rate_cents(service, zone, billable)
    handling_units = costs.handling_per_unit_cents * sum(item.quantity for item in contents)
    shipped, delivered = ship_and_delivery(costs, service, zone, now)
    return ShipmentQuote(
        node_id=node.node_id,
        lines=list(contents),
        service=service.name,
        carrier=service.carrier,
        carrier_service=service.service,
        level=service.level,
        currency=model.currency,
        miles=round(miles, 1),
        zone=zone,
        actual_weight_lb=round(actual_weight_lb(contents, catalog), 3),
        billable_weight_lb=billable,
        carrier_cents=carrier,
        handling_order_cents=costs.handling_per_order_cents,
        handling_units_cents=handling_units,
        total_cents=carrier + costs.handling_per_order_cents + handling_units,
        ship_date=shipped,
        delivery_date=delivered,
    )


def _round_up(pounds: float) -> int:
    return math.ceil(pounds - _EPSILON)
