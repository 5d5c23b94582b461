"""A seeded synthetic US fulfilment network: nodes at real metros, a skewed catalogue, orders, tight stock.

Used by the sourcing benchmark and by `omniroute simulate --literature`. Every choice is fixed here
and the same seed gives the same network, byte for byte:

- Demand regions: the 99 US metros of the fulfilment-literature network (`US_METROS`: name, state,
  centre, population; from the `cities.csv` of the public repository
  Willmasaur/multi_item_e_commerce_fulfillment, see /work/shared/benchmarks/fulfillment-literature).
  Each order goes to a metro drawn with probability proportional to its population.
- Nodes: distribution centres at the `nodes` most populous of those metros, with no daily capacity
  limit.
- Catalogue: `skus` SKUs whose popularity follows Zipf's law (the SKU of rank r is drawn with weight
  1/r), so a few SKUs make most of the demand and a long tail sells a unit now and then.
- Orders: 1 to `max_lines` distinct SKUs (uniformly many), each line 1 unit (80 %), 2 (15 %) or 3 (5 %).
- Stock, sized to be tight: the network holds `STOCK_COVER` (1.10) times each SKU's demand over the
  run, counted from the generated orders, so every unit can be filled somewhere and cost differences
  come from where stock sits, not from stock-outs. A SKU sits at ceil(demand / `UNITS_PER_HOLDER`)
  nodes (at least one, at most all): the best sellers everywhere, the tail at one or two. Holders are
  drawn at random, weighted by each node's catchment (the population of the metros nearest to it),
  and share the SKU's stock in proportion to that weight. With only 10 % slack, and each node
  holding about what its own catchment will ask for, a unit shipped to a far destination because it
  was the cheapest today is a unit a later nearby order has to fetch from farther away: myopic
  choices hurt later orders.
"""

from __future__ import annotations

import itertools
import math
import random
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from models.address import GeoPoint
from models.network import NodeKind
from omniroute.simulation.inputs import Inventory, Place, SimLine, SimNode, SimOrder
from sourcing.geo import haversine_km

STOCK_COVER = 1.10
UNITS_PER_HOLDER = 8
ZIPF_EXPONENT = 1.0
QUANTITY_WEIGHTS: tuple[tuple[int, float], ...] = ((1, 0.80), (2, 0.15), (3, 0.05))
# Every node may hold stock, however small its catchment: a floor of 1 % of the largest catchment.
CATCHMENT_FLOOR = 0.01

# (name, state, latitude, longitude, population), most populous first.
US_METROS: tuple[tuple[str, str, float, float, int], ...] = (
    ("New York", "New York", 40.6943, -73.9249, 18680025),
    ("Los Angeles", "California", 34.1141, -118.4068, 12531334),
    ("Chicago", "Illinois", 41.8375, -87.6866, 8586888),
    ("Miami", "Florida", 25.784, -80.2101, 6076316),
    ("Dallas", "Texas", 32.7935, -96.7667, 5910669),
    ("Houston", "Texas", 29.786, -95.3885, 5724418),
    ("Philadelphia", "Pennsylvania", 40.0077, -75.1339, 5540199),
    ("Atlanta", "Georgia", 33.7628, -84.422, 5151496),
    ("Washington", "District of Columbia", 38.9047, -77.0163, 5066973),
    ("Boston", "Massachusetts", 42.3188, -71.0852, 4465966),
    ("Phoenix", "Arizona", 33.5722, -112.0892, 4187723),
    ("Detroit", "Michigan", 42.3834, -83.1024, 3731486),
    ("San Francisco", "California", 37.7558, -122.4449, 3557982),
    ("Seattle", "Washington", 47.6211, -122.3244, 3530752),
    ("San Diego", "California", 32.8313, -117.1222, 3178495),
    ("Minneapolis", "Minnesota", 44.9635, -93.2678, 2885614),
    ("Tampa", "Florida", 27.9945, -82.4447, 2771700),
    ("Brooklyn", "New York", 40.6501, -73.9496, 2736074),
    ("Denver", "Colorado", 39.762, -104.8758, 2709398),
    ("Queens", "New York", 40.7498, -73.7976, 2405464),
    ("Baltimore", "Maryland", 39.3051, -76.6144, 2270087),
    ("Las Vegas", "Nevada", 36.2333, -115.2654, 2165405),
    ("St. Louis", "Missouri", 38.6359, -90.2451, 2144317),
    ("Riverside", "California", 33.9381, -117.3949, 2112239),
    ("Portland", "Oregon", 45.5371, -122.65, 2072553),
    ("San Antonio", "Texas", 29.4632, -98.5238, 2036324),
    ("Sacramento", "California", 38.5677, -121.4685, 1882358),
    ("San Juan", "Puerto Rico", 18.3985, -66.061, 1854549),
    ("San Jose", "California", 37.3012, -121.848, 1797166),
    ("Orlando", "Florida", 28.4773, -81.337, 1792047),
    ("Cleveland", "Ohio", 41.4764, -81.6805, 1742437),
    ("Pittsburgh", "Pennsylvania", 40.4397, -79.9763, 1719289),
    ("Manhattan", "New York", 40.7834, -73.9662, 1694263),
    ("Austin", "Texas", 30.3005, -97.7522, 1685522),
    ("Cincinnati", "Ohio", 39.1413, -84.506, 1684800),
    ("Indianapolis", "Indiana", 39.7771, -86.1458, 1636763),
    ("Kansas City", "Missouri", 39.1238, -94.5541, 1602005),
    ("Columbus", "Ohio", 39.9862, -82.9855, 1547862),
    ("Charlotte", "North Carolina", 35.2083, -80.8303, 1526465),
    ("Virginia Beach", "Virginia", 36.7335, -76.0435, 1475522),
    ("Bronx", "New York", 40.8501, -73.8662, 1472654),
    ("Milwaukee", "Wisconsin", 43.0642, -87.9675, 1390046),
    ("Providence", "Rhode Island", 41.823, -71.4187, 1204385),
    ("Jacksonville", "Florida", 30.3322, -81.6749, 1165107),
    ("Salt Lake City", "Utah", 40.7776, -111.9311, 1135747),
    ("Nashville", "Tennessee", 36.1715, -86.7842, 1081876),
    ("Raleigh", "North Carolina", 35.8324, -78.6429, 1073795),
    ("Memphis", "Tennessee", 35.1087, -89.9663, 1072330),
    ("Richmond", "Virginia", 37.5295, -77.4756, 1025117),
    ("Louisville", "Kentucky", 38.1663, -85.6485, 1004821),
    ("New Orleans", "Louisiana", 30.0687, -89.9288, 957783),
    ("Bridgeport", "Connecticut", 41.1918, -73.1954, 948918),
    ("Oklahoma City", "Oklahoma", 35.4676, -97.5136, 947247),
    ("Buffalo", "New York", 42.9018, -78.8487, 926607),
    ("Hartford", "Connecticut", 41.7661, -72.6834, 918434),
    ("Fort Worth", "Texas", 32.7817, -97.3474, 892221),
    ("Tucson", "Arizona", 32.1541, -110.8787, 883127),
    ("McAllen", "Texas", 26.2252, -98.2467, 805270),
    ("El Paso", "Texas", 31.8476, -106.43, 798217),
    ("Omaha", "Nebraska", 41.2627, -96.0529, 791432),
    ("Albuquerque", "New Mexico", 35.1054, -106.6465, 762853),
    ("Birmingham", "Alabama", 33.5279, -86.7971, 753721),
    ("Sarasota", "Florida", 27.3387, -82.5432, 727388),
    ("Dayton", "Ohio", 39.7805, -84.2003, 723844),
    ("Rochester", "New York", 43.168, -77.6162, 720189),
    ("Fresno", "California", 36.783, -119.7939, 702486),
    ("Tulsa", "Oklahoma", 36.1283, -95.9042, 698349),
    ("Allentown", "Pennsylvania", 40.5961, -75.4756, 688658),
    ("Concord", "California", 37.9722, -122.0016, 667250),
    ("Cape Coral", "Florida", 26.6443, -81.9957, 649339),
    ("Charleston", "South Carolina", 32.8168, -79.9687, 645413),
    ("Colorado Springs", "Colorado", 38.8674, -104.7605, 621332),
    ("Springfield", "Massachusetts", 42.1155, -72.5395, 615728),
    ("Grand Rapids", "Michigan", 42.9619, -85.6562, 615273),
    ("Ogden", "Utah", 41.2279, -111.9682, 615015),
    ("Columbia", "South Carolina", 34.0378, -80.9036, 609689),
    ("Baton Rouge", "Louisiana", 30.442, -91.1311, 605449),
    ("Knoxville", "Tennessee", 35.9692, -83.9496, 603685),
    ("Mission Viejo", "California", 33.6096, -117.6551, 600802),
    ("Albany", "New York", 42.6664, -73.7987, 590823),
    ("Akron", "Ohio", 41.0798, -81.5219, 570375),
    ("New Haven", "Connecticut", 41.3113, -72.9246, 566683),
    ("Provo", "Utah", 40.2457, -111.6457, 563884),
    ("Bakersfield", "California", 35.3529, -119.0359, 556892),
    ("Murrieta", "California", 33.5719, -117.1909, 524133),
    ("Des Moines", "Iowa", 41.5725, -93.6105, 519180),
    ("Worcester", "Massachusetts", 42.2705, -71.8079, 516483),
    ("Mesa", "Arizona", 33.4015, -111.7178, 508918),
    ("Toledo", "Ohio", 41.6638, -83.5827, 498645),
    ("Palm Bay", "Florida", 27.9631, -80.6593, 496640),
    ("Staten Island", "New York", 40.5834, -74.1496, 495747),
    ("Wichita", "Kansas", 37.6895, -97.3443, 484715),
    ("Harrisburg", "Pennsylvania", 40.2752, -76.8843, 472261),
    ("Long Beach", "California", 33.7977, -118.167, 462081),
    ("Little Rock", "Arkansas", 34.7256, -92.3577, 446814),
    ("Madison", "Wisconsin", 43.0822, -89.393, 445499),
    ("Greenville", "South Carolina", 34.8354, -82.3646, 441303),
    ("Reno", "Nevada", 39.5497, -119.8483, 440547),
    ("Port St. Lucie", "Florida", 27.2796, -80.3884, 435182),
)


@dataclass(frozen=True)
class GeneratedNetwork:
    nodes: list[SimNode]
    inventory: Inventory
    orders: list[SimOrder]
    skus: list[str]


def us_metros() -> list[Place]:
    return [Place(name=name, region=state, point=GeoPoint(latitude=lat, longitude=lon), population=population)
            for name, state, lat, lon, population in US_METROS]


def us_network(*, nodes: int = 50, skus: int = 2000, orders: int = 10_000, max_lines: int = 5,
               seed: int = 7) -> GeneratedNetwork:
    """DCs at the `nodes` largest US metros, demand from all 99 metros."""
    metros = us_metros()
    if not 1 <= nodes <= len(metros):
        raise ValueError(f"nodes must be within 1..{len(metros)}, got {nodes}")
    return generate(metros[:nodes], metros, skus=skus, orders=orders, max_lines=max_lines, seed=seed)


def generate(
    sites: Sequence[Place], regions: Sequence[Place], *, skus: int, orders: int, max_lines: int, seed: int,
    quantities: Sequence[tuple[int, float]] = QUANTITY_WEIGHTS, stock_cover: float = STOCK_COVER,
    units_per_holder: int = UNITS_PER_HOLDER,
) -> GeneratedNetwork:
    """Nodes at `sites`, orders to `regions` (weighted by population), stock as the module describes."""
    if skus < 1 or orders < 1 or max_lines < 1:
        raise ValueError("skus, orders and max_lines must be at least 1")
    rng = random.Random(seed)
    nodes = [SimNode(node_id=node_id(site.name), kind=NodeKind.DC, point=site.point) for site in sites]
    if len({node.node_id for node in nodes}) != len(nodes):
        raise ValueError("two sites have the same name")
    catalogue = [f"SKU-{n:05d}" for n in range(1, skus + 1)]
    generated = _orders(rng, regions, catalogue, orders, min(max_lines, skus), quantities)
    demand: Counter[str] = Counter()
    for order in generated:
        for line in order.lines:
            demand[line.sku] += line.quantity
    weights = _catchments(nodes, regions)
    inventory: Inventory = {}
    for sku in catalogue:
        total = math.ceil(stock_cover * demand[sku]) if demand[sku] else 1
        holders = _draw_holders(rng, nodes, weights, max(1, min(len(nodes), total,
                                                             math.ceil(demand[sku] / units_per_holder))))
        for holder, units in zip(holders, _shares(total, [weights[h] for h in holders]), strict=True):
            if units > 0:
                inventory[(holder, sku)] = units
    return GeneratedNetwork(nodes=nodes, inventory=inventory, orders=generated, skus=catalogue)


def node_id(name: str) -> str:
    return "dc-" + re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _orders(
    rng: random.Random, regions: Sequence[Place], catalogue: list[str], count: int, max_lines: int,
    quantities: Sequence[tuple[int, float]],
) -> list[SimOrder]:
    region_weights = list(itertools.accumulate(float(place.population or 0) for place in regions))
    if not region_weights[-1]:
        raise ValueError("the demand regions need populations")
    sku_weights = list(itertools.accumulate(1 / rank ** ZIPF_EXPONENT for rank in range(1, len(catalogue) + 1)))
    units, unit_weights = [q for q, _ in quantities], list(itertools.accumulate(w for _, w in quantities))
    orders = []
    for n in range(1, count + 1):
        place = rng.choices(regions, cum_weights=region_weights)[0]
        wanted = rng.randint(1, max_lines)
        chosen: list[str] = []
        while len(chosen) < wanted:
            sku = rng.choices(catalogue, cum_weights=sku_weights)[0]
            if sku not in chosen:
                chosen.append(sku)
        lines = tuple(SimLine(sku=sku, quantity=rng.choices(units, cum_weights=unit_weights)[0]) for sku in chosen)
        orders.append(SimOrder(order_id=f"order-{n:06d}", destination=place.point, lines=lines))
    return orders


def _catchments(nodes: Sequence[SimNode], regions: Sequence[Place]) -> dict[str, float]:
    """Population of the regions nearest to each node, floored so that every node counts."""
    weights = dict.fromkeys((node.node_id for node in nodes), 0.0)
    for place in regions:
        nearest = min(nodes, key=lambda node: (haversine_km(node.point, place.point), node.node_id))
        weights[nearest.node_id] += float(place.population or 0)
    floor = CATCHMENT_FLOOR * max(weights.values())
    return {key: max(value, floor, 1e-9) for key, value in weights.items()}


def _draw_holders(rng: random.Random, nodes: Sequence[SimNode], weights: dict[str, float], count: int) -> list[str]:
    pool = [node.node_id for node in nodes]
    holders = []
    for _ in range(count):
        pick = rng.choices(pool, weights=[weights[n] for n in pool])[0]
        pool.remove(pick)
        holders.append(pick)
    return holders


def _shares(total: int, weights: Sequence[float]) -> list[int]:
    """`total` split in proportion to `weights` (largest remainder), each holder at least 1 when it can be."""
    if not weights:
        return []
    scale = sum(weights)
    exact = [total * w / scale for w in weights]
    shares = [max(1, math.floor(x)) if total >= len(weights) else math.floor(x) for x in exact]
    while sum(shares) > total:
        largest = max(range(len(shares)), key=lambda i: shares[i])
        shares[largest] -= 1
    by_remainder = sorted(range(len(weights)), key=lambda i: exact[i] - math.floor(exact[i]), reverse=True)
    for i in by_remainder[: total - sum(shares)]:
        shares[i] += 1
    while sum(shares) < total:
        shares[by_remainder[0]] += 1
    return shares
