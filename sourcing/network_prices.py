"""Live look-ahead: shadow prices of the network's stock, from recent orders and the cost model.

The same transportation LP as the simulator's look-ahead (`sourcing.lookahead.shadow_prices`, after
Acimovic & Graves 2015), fed from live data: the forecast is `sourcing.forecast.observed_demand`
over the orders of the history window, scaled to the orders expected over the horizon; the lane
cost of a (node, region) is what shipping one unit alone costs by the cheapest service of the cost
model; the supply is each node's ATP. Pure: the caller reads the store and keeps the result.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from models.address import GeoPoint
from models.catalog import Catalog
from models.costs import CostModel, LookAheadSettings
from models.network import Node
from models.shipment import ShipmentLine
from sourcing.forecast import Regions, observed_demand
from sourcing.inputs import SourcingInput
from sourcing.lookahead import shadow_prices, sku_batches
from sourcing.pricing import price_problem

# The SKU a lane is priced with: the catalogue's default attributes (one unit, no dimensions).
PROBE_SKU = "LANE-PROBE"
# Supply x demand pairs per LP: the prices of one call, without its size growing past a quick solve.
MAX_PAIRS_PER_LP = 2000


@dataclass(frozen=True)
class NetworkPrices:
    prices: dict[tuple[str, str], float]
    orders_seen: int
    forecast_units: float
    regions: int
    solve_ms: float


def lane_estimates(
    model: CostModel, catalog: Catalog, nodes: Sequence[Node], points: Mapping[str, GeoPoint], now: datetime
) -> dict[tuple[str, str], float]:
    """Cents to ship one unit alone from each node to each region's point (no pair: no service reaches)."""
    lanes: dict[tuple[str, str], float] = {}
    probe = [ShipmentLine(line_no=1, sku=PROBE_SKU, quantity=1)]
    for node in nodes:
        for region, point in points.items():
            problem = price_problem(SourcingInput(order_id="lane", lines=probe, destination=point, nodes=[node],
                                                  atp={node.node_id: {PROBE_SKU: 1}}, model=model, catalog=catalog,
                                                  now=now))
            if problem.candidates:
                found = problem.candidates[0]
                lanes[(node.node_id, region)] = found.shipment_cost + found.unit_cost[PROBE_SKU]
    return lanes


def network_shadow_prices(
    history: Iterable[tuple[GeoPoint, Sequence[tuple[str, int]]]],
    nodes: Sequence[Node],
    atp: Mapping[str, Mapping[str, int]],
    *,
    model: CostModel,
    catalog: Catalog,
    settings: LookAheadSettings,
    now: datetime,
) -> NetworkPrices:
    """Prices per (node_id, sku) from the orders of the last `settings.history_days` (`history`: each
    order's destination and lines) and the ATP per node and SKU (`atp[node_id][sku]`)."""
    started = time.perf_counter()
    orders = list(history)
    regions = Regions(settings.region_grid_degrees)
    orders_ahead = len(orders) * settings.horizon_days / settings.history_days
    demand = observed_demand(orders, orders_ahead, regions)
    supply = {(node_id, sku): units for node_id, stock in atp.items() for sku, units in stock.items() if units > 0}
    held = {sku for _, sku in supply}
    demand = {key: units for key, units in demand.items() if key[1] in held}
    if not demand:
        return NetworkPrices({}, len(orders), 0.0, len(regions.points()), (time.perf_counter() - started) * 1000)
    points = regions.points()
    wanted = {sku for _, sku in demand}
    supply = {key: units for key, units in supply.items() if key[1] in wanted}
    stocked = [node for node in nodes if node.node_id in {node_id for node_id, _ in supply}]
    lanes = lane_estimates(model, catalog, stocked, points, now)
    # A forecast unit no stock serves costs what the dearest lane would, not the unfilled penalty: the
    # penalty would price every unit of a short SKU at the penalty and push orders to leave it unfilled.
    shortfall = min(float(model.unfilled_penalty_cents), max(lanes.values(), default=0.0))
    prices: dict[tuple[str, str], float] = {}
    for batch_supply, batch_demand in sku_batches(supply, demand, MAX_PAIRS_PER_LP):
        batch_lanes = {(node_id, region): lanes[(node_id, region)]
                       for node_id in {n for n, _ in batch_supply} for region in {r for r, _ in batch_demand}
                       if (node_id, region) in lanes}
        prices.update(shadow_prices(batch_supply, batch_demand, batch_lanes, shortfall))
    return NetworkPrices(
        prices={key: price for key, price in prices.items() if price > 1e-9},
        orders_seen=len(orders), forecast_units=sum(demand.values()), regions=len(points),
        solve_ms=(time.perf_counter() - started) * 1000,
    )
