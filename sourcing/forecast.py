"""Demand to come, per destination region and SKU: what the look-ahead prices stock against.

A region is a cell of a latitude/longitude grid (`REGION_GRID_DEGREES` on a side), represented by
the mean point of the destinations seen in it. `observed_demand` is the forecast the live
look-ahead uses: the regional mix of recent orders (share of orders per region) times their SKU mix
(units per order of each SKU), times the number of orders expected over the horizon. It assumes
that where orders go and what they hold are independent, which is what lets a few days of orders
price a large assortment.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence

from models.address import GeoPoint

REGION_GRID_DEGREES = 1.0
Demand = dict[tuple[str, str], float]


def region_of(point: GeoPoint, grid: float = REGION_GRID_DEGREES) -> str:
    """The grid cell of a point, as 'lat-index:lon-index'."""
    return f"{math.floor(point.latitude / grid)}:{math.floor(point.longitude / grid)}"


class Regions:
    """Region ids and their representative points (the running mean of the points put in)."""

    def __init__(self, grid: float = REGION_GRID_DEGREES) -> None:
        if not (math.isfinite(grid) and grid > 0):
            raise ValueError(f"the region grid must be a positive number of degrees, got {grid}")
        self.grid = grid
        self._sums: dict[str, tuple[float, float, int]] = {}

    def add(self, point: GeoPoint) -> str:
        region = region_of(point, self.grid)
        lat, lon, count = self._sums.get(region, (0.0, 0.0, 0))
        self._sums[region] = (lat + point.latitude, lon + point.longitude, count + 1)
        return region

    def points(self) -> dict[str, GeoPoint]:
        return {region: GeoPoint(latitude=lat / count, longitude=lon / count)
                for region, (lat, lon, count) in self._sums.items()}


def observed_demand(
    history: Iterable[tuple[GeoPoint, Sequence[tuple[str, int]]]], orders_ahead: float, regions: Regions
) -> Demand:
    """Expected units per (region, sku) over `orders_ahead` orders, from `history` (each order's
    destination and its (sku, quantity) lines). Regions seen are added to `regions`."""
    if not (math.isfinite(orders_ahead) and orders_ahead >= 0):
        raise ValueError(f"orders_ahead must be a non-negative number, got {orders_ahead}")
    orders = 0
    per_region: Counter[str] = Counter()
    units: Counter[str] = Counter()
    for destination, lines in history:
        orders += 1
        per_region[regions.add(destination)] += 1
        for sku, quantity in lines:
            units[sku] += quantity
    if orders == 0 or orders_ahead == 0:
        return {}
    scale = orders_ahead / (orders * orders)  # region share x units per order x orders ahead
    return {(region, sku): seen * count * scale
            for region, seen in per_region.items() for sku, count in units.items() if count > 0}
