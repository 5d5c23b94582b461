"""The demand the look-ahead plans for: the units of each SKU still to come, per destination region.

A region is a cell of a latitude/longitude grid (`REGION_GRID_DEGREES` on a side), represented by
the mean point of the destinations seen in it. Two sources:

- `GivenDemand`: a demand file's expected units per order (per point and SKU), times the number
  of orders still to come.
- `ObservedDemand`: what the orders replayed so far showed, and nothing else. The forecast is the
  product of the observed regional mix (share of orders per region) and the observed SKU mix
  (units per order of each SKU), times the number of orders still to come. It never looks at an
  order before that order has been decided; the one thing it knows about the future is how many
  orders remain (the length of the run).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable
from typing import Protocol

from omniroute.simulation.inputs import DemandRate, SimOrder
from sourcing.forecast import REGION_GRID_DEGREES, Demand, Regions, region_of

__all__ = ["REGION_GRID_DEGREES", "Demand", "DemandSource", "GivenDemand", "ObservedDemand", "Regions", "region_of"]


class DemandSource(Protocol):
    regions: Regions

    def observe(self, order: SimOrder) -> None:
        """Learn from an order once it has been decided."""
        ...

    def remaining(self, orders_left: int, skus: Collection[str] | None = None) -> Demand:
        """Expected units per (region, sku) over the `orders_left` orders still to come (only of `skus` if
        given)."""
        ...


class GivenDemand:
    """A demand file's rates; orders seen change nothing."""

    def __init__(self, rates: Iterable[DemandRate], grid: float = REGION_GRID_DEGREES) -> None:
        self.regions = Regions(grid)
        self._per_order: Demand = {}
        for rate in rates:
            key = (self.regions.add(rate.point), rate.sku)
            self._per_order[key] = self._per_order.get(key, 0.0) + rate.units_per_order

    def observe(self, order: SimOrder) -> None:
        return None

    def remaining(self, orders_left: int, skus: Collection[str] | None = None) -> Demand:
        return {key: rate * orders_left for key, rate in self._per_order.items()
                if rate > 0 and (skus is None or key[1] in skus)}


class ObservedDemand:
    """The mix of the orders seen so far, scaled to the orders left."""

    def __init__(self, grid: float = REGION_GRID_DEGREES) -> None:
        self.regions = Regions(grid)
        self._orders = 0
        self._per_region: Counter[str] = Counter()
        self._units: Counter[str] = Counter()

    def observe(self, order: SimOrder) -> None:
        self._orders += 1
        self._per_region[self.regions.add(order.destination)] += 1
        for line in order.lines:
            self._units[line.sku] += line.quantity

    def remaining(self, orders_left: int, skus: Collection[str] | None = None) -> Demand:
        if self._orders == 0 or orders_left <= 0:
            return {}
        scale = orders_left / (self._orders * self._orders)  # region share x units per order x orders left
        units_of = self._units if skus is None else {sku: self._units[sku] for sku in skus if sku in self._units}
        return {(region, sku): seen * units * scale
                for region, seen in self._per_region.items() for sku, units in units_of.items()}
