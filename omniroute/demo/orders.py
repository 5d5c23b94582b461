"""Deterministic demo orders and returns, generated from a seed and the demo network.

The same (network, count, seed, run_tag) always gives the same orders. The mix is fixed by the
order's position so that even a dozen orders contain each kind:

- every 8th order (from the 4th) pairs two SKUs that no single node stocks together: it must split;
- every 50th order (from the 6th) asks for one unit more of a scarce SKU than the whole network holds,
  next to an ordinary line. These alternate between the web shop, whose rules backorder what nobody
  can ship (the demo's warehouse then receives the missing units and the order completes), and the
  marketplace, whose rules cancel it;
- every 25th order (from the 10th) is cancelled by the customer before it ships;
- every 40th order (from the 18th) is flagged by the channel's fraud screen: the rules hold it until
  the demo's operator releases it;
- every 12th order (from the 7th) is picked up in a store (BOPIS) and every 25th (from the 15th) at a
  store's curbside: one unit of a SKU the store holds plenty of. Every third pickup customer from the
  first on (BOPIS ones, among the first half of the orders, so that their wait overlaps the run) never
  comes, and the pickup expires;
- every 3rd order (from the 2nd) is rejected by the store that gets a ship-from-store shipment of it,
  and every 3rd (from the 3rd) is short picked there (`StoreTrouble`; few orders ship from a store);
- the rest have one to three lines of commonly stocked SKUs. `choose_returns` picks among these the
  orders whose customers send something back once it is delivered.

Across all kinds, every 10th customer (from the 3rd) asked for SMS updates too, and every 9th (from the
4th) reads French: their messages come from the French templates.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from models.address import Address
from models.costs import ServiceLevel
from models.network import Capability, NodeKind
from models.order import Customer, OrderLineIn, Pickup, PlaceOrder
from models.returns import ReturnLine, StartReturn
from omniroute.demo.network import DemoNetwork, DemoSku
from omniroute.demo.warehouse import StoreTrouble

CHANNEL_WEIGHTS: dict[str, int] = {"web": 6, "marketplace": 3, "pos": 1}
# Scarce-line orders take turns: the web shop's rules backorder the missing units, the marketplace's cancel them.
SCARCE_LINE_CHANNELS = ("web", "marketplace")
SCARCE_AT_MOST = 3  # a SKU with this many units or fewer network-wide is scarce
COMMON_AT_LEAST = 4  # a SKU stocked at this many nodes or more is common

_FIRST = ("Ava", "Ben", "Chloe", "Diego", "Emma", "Farid", "Grace", "Hiro", "Isla", "Jamal", "Kira", "Liam",
          "Maya", "Noah", "Olga", "Priya", "Quinn", "Rosa", "Sam", "Tariq", "Uma", "Victor", "Wen", "Zoe")
_LAST = ("Adams", "Brown", "Chen", "Diaz", "Evans", "Fischer", "Garcia", "Hughes", "Ito", "Johnson", "Khan",
         "Lopez", "Miller", "Nguyen", "Okafor", "Patel", "Rossi", "Smith", "Taylor", "Walker", "Young")
_STREETS = ("Main St", "Oak Ave", "Maple Dr", "Cedar Ln", "Park Blvd", "Lake St", "Hill Rd", "Elm St")
_RETURN_REASONS = ("does not fit", "changed my mind", "arrived damaged", "not as described", "found it cheaper")


class OrderKind(StrEnum):
    ORDINARY = "ordinary"
    MUST_SPLIT = "must_split"
    SCARCE_LINE = "scarce_line"
    PICKUP = "pickup"  # BOPIS
    CURBSIDE = "curbside"


PICKUP_EVERY, PICKUP_AT = 12, 6
CURBSIDE_EVERY, CURBSIDE_AT = 25, 14
NO_SHOW_EVERY = 3  # of the BOPIS customers in the first half of the orders
SMS_EVERY = 10  # customers who asked for SMS updates as well as e-mail
FRENCH_EVERY = 9  # customers whose messages are in French
PICKUP_STOCK_AT_LEAST = 5  # a pickup takes a SKU the store holds this many of, and other pickup stores hold too
# Few orders ship from a store (a dozen of the default 200): of those, a third are rejected there and a
# third short picked.
STORE_REJECTS_AT, STORE_SHORT_PICKS_AT, STORE_TROUBLE_EVERY = 1, 2, 3


@dataclass(frozen=True)
class DemoOrder:
    """One order to place, its kind, whether the customer cancels it before it ships, whether a
    pickup's customer comes for it, and what a store that ships it does wrong."""

    order: PlaceOrder
    kind: OrderKind
    cancel_before_shipping: bool
    customer_comes: bool = True
    store_trouble: StoreTrouble | None = None

    @property
    def order_id(self) -> str:
        return self.order.order_id

    @property
    def flagged_for_fraud(self) -> bool:
        return self.order.attributes.get("fraud_risk") == "high"


def generate_orders(network: DemoNetwork, count: int, *, seed: int, run_tag: str = "demo") -> list[DemoOrder]:
    """`count` orders for `network`; `run_tag` keeps channel order ids apart between runs."""
    if count < 0:
        raise ValueError("count must not be negative")
    rng = random.Random(seed)
    picker = _SkuPicker(network, rng)
    orders: list[DemoOrder] = []
    scarce_orders = bopis_orders = 0
    for index in range(count):
        pickup: Pickup | None = None
        comes = True
        if index % 50 == 5 and picker.scarce:
            kind, lines = OrderKind.SCARCE_LINE, picker.scarce_line_order()
        elif index % CURBSIDE_EVERY == CURBSIDE_AT and picker.curbside_stores:
            kind = OrderKind.CURBSIDE
            store, lines = picker.pickup_order(curbside=True)
            pickup = Pickup(node_id=store, curbside=True)
        elif index % PICKUP_EVERY == PICKUP_AT and picker.pickup_stores:
            kind = OrderKind.PICKUP
            store, lines = picker.pickup_order(curbside=False)
            pickup = Pickup(node_id=store)
            comes = not (index < count // 2 and bopis_orders % NO_SHOW_EVERY == 0)
            bopis_orders += 1
        elif index % 8 == 3 and picker.disjoint_pairs:
            kind, lines = OrderKind.MUST_SPLIT, picker.must_split_order()
        else:
            kind, lines = OrderKind.ORDINARY, picker.ordinary_order()
        customer = _customer(rng, index)
        channel = _weighted(rng, CHANNEL_WEIGHTS)
        if kind is OrderKind.SCARCE_LINE:
            channel = SCARCE_LINE_CHANNELS[scarce_orders % len(SCARCE_LINE_CHANNELS)]
            scarce_orders += 1
        if pickup is not None:
            channel = "web"
        ship_to = _ship_to(rng, network, customer.name)
        order = PlaceOrder(
            channel=channel,
            channel_order_id=f"{run_tag}-{1001 + index}",
            currency="USD",
            customer=customer,
            ship_to=None if pickup is not None else ship_to,  # a pickup is recorded at the store's address
            pickup=pickup,
            lines=[OrderLineIn(sku=s.sku, quantity=q, unit_price=s.price_cents) for s, q in lines],
            service_level=ServiceLevel.TWO_DAY if rng.random() < 0.1 else ServiceLevel.STANDARD,
            # Now and then the channel's fraud screen flags an order: the demo rules hold it for review.
            attributes={"fraud_risk": "high"} if index % 40 == 17 else {},
        )
        trouble = {STORE_REJECTS_AT: StoreTrouble.REJECT, STORE_SHORT_PICKS_AT: StoreTrouble.SHORT_PICK}.get(
            index % STORE_TROUBLE_EVERY) if pickup is None else None
        orders.append(DemoOrder(order=order, kind=kind, cancel_before_shipping=index % 25 == 9 and pickup is None,
                                customer_comes=comes, store_trouble=trouble))
    return orders


def choose_returns(orders: Sequence[DemoOrder], count: int, *, seed: int) -> list[str]:
    """The ids of up to `count` orders whose customers will return something once it is delivered:
    ordinary orders that are neither cancelled nor held, so that each one ends delivered."""
    candidates = [o.order_id for o in orders
                  if o.kind is OrderKind.ORDINARY and not o.cancel_before_shipping and not o.flagged_for_fraud]
    return random.Random(seed).sample(candidates, min(count, len(candidates)))


def return_request(
    order_id: str, delivered: Sequence[tuple[str, int]], number: int, *, seed: int, run_tag: str = "demo"
) -> StartReturn:
    """The customer's return of part of one delivered line of `order_id` ([(sku, quantity), ...]);
    the same arguments always give the same request."""
    if not delivered:
        raise ValueError(f"order {order_id} has nothing delivered to return")
    rng = random.Random(f"{seed}:{order_id}")
    sku, quantity = rng.choice(sorted(delivered))
    return StartReturn(
        rma=f"RMA-{run_tag}-{number:04d}",
        order_id=order_id,
        lines=[ReturnLine(sku=sku, quantity=rng.randint(1, quantity))],
        reason=rng.choice(_RETURN_REASONS),
    )


class _SkuPicker:
    """Chooses order lines by the shape of the stock: common, scarce, and never-together pairs."""

    def __init__(self, network: DemoNetwork, rng: random.Random) -> None:
        self._rng = rng
        stocking = {s.sku: network.nodes_stocking(s.sku) for s in network.skus}
        self.scarce = [s for s in network.skus if 0 < network.network_on_hand(s.sku) <= SCARCE_AT_MOST]
        self._scarce_units = {s.sku: network.network_on_hand(s.sku) for s in self.scarce}
        self.common = [s for s in network.skus if len(stocking[s.sku]) >= COMMON_AT_LEAST]
        scarce_ids = {s.sku for s in self.scarce}
        plenty = [s for s in network.skus if stocking[s.sku] and s.sku not in scarce_ids]
        self.disjoint_pairs = [
            (a, b) for i, a in enumerate(plenty) for b in plenty[i + 1:]
            if not stocking[a.sku] & stocking[b.sku]
        ]
        self._popularity = {s.sku: rng.randint(1, 10) for s in self.common}
        stores = [n for n in network.nodes
                  if n.kind is NodeKind.STORE and n.active and Capability.PICKUP in n.capabilities]
        # What each pickup store may be asked for: plenty on its shelf, and at another pickup store too.
        self._pickup_skus = {
            store.node_id: [s for s in network.skus if network.on_hand(store.node_id, s.sku) >= PICKUP_STOCK_AT_LEAST
                            and any(network.on_hand(other.node_id, s.sku) > 0 for other in stores if other != store)]
            for store in stores}
        self.pickup_stores = [n.node_id for n in stores if self._pickup_skus[n.node_id]]
        self.curbside_stores = [n.node_id for n in stores
                                if Capability.CURBSIDE in n.capabilities and self._pickup_skus[n.node_id]]

    def pickup_order(self, *, curbside: bool) -> tuple[str, list[tuple[DemoSku, int]]]:
        """A store and one unit of a SKU it has plenty of."""
        store = self._rng.choice(self.curbside_stores if curbside else self.pickup_stores)
        return store, [(self._rng.choice(self._pickup_skus[store]), 1)]

    def ordinary_order(self) -> list[tuple[DemoSku, int]]:
        line_count = self._rng.choices((1, 2, 3), weights=(55, 30, 15))[0]
        return [(sku, self._quantity()) for sku in self._distinct_common(line_count)]

    def must_split_order(self) -> list[tuple[DemoSku, int]]:
        first, second = self._rng.choice(self.disjoint_pairs)
        return [(first, 1), (second, 1)]

    def scarce_line_order(self) -> list[tuple[DemoSku, int]]:
        scarce = self._rng.choice(self.scarce)
        # One more unit than the whole network holds: this line can never be filled in full.
        return [*((sku, 1) for sku in self._distinct_common(1)), (scarce, self._scarce_units[scarce.sku] + 1)]

    def _distinct_common(self, count: int) -> list[DemoSku]:
        chosen: list[DemoSku] = []
        while len(chosen) < count:
            sku = self._rng.choices(self.common, weights=[self._popularity[s.sku] for s in self.common])[0]
            if sku not in chosen:
                chosen.append(sku)
        return chosen

    def _quantity(self) -> int:
        return self._rng.choices((1, 2, 3), weights=(80, 15, 5))[0]


def _weighted(rng: random.Random, weights: Mapping[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _customer(rng: random.Random, index: int) -> Customer:
    """A customer; every SMS_EVERY-th (from the 3rd) also wants SMS updates on a demo phone number, and every
    FRENCH_EVERY-th (from the 4th) reads French (docs/notifications.md)."""
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    sms = index % SMS_EVERY == 2
    return Customer(email=f"{first}.{last}.{index}@example.com".lower(), name=f"{first} {last}",
                    phone=demo_phone(index) if sms else None, sms=sms,
                    locale="fr" if index % FRENCH_EVERY == 3 else "en")


def demo_phone(index: int) -> str:
    """The demo customer's mobile number: one per customer, in the 555 exchange."""
    return f"+1312555{index % 10_000:04d}"


def _ship_to(rng: random.Random, network: DemoNetwork, name: str) -> Address:
    where = rng.choice(network.ship_to)
    return Address(
        name=name, line1=f"{rng.randint(1, 9999)} {rng.choice(_STREETS)}",
        city=where.city, region=where.region, postal_code=where.postal_code, country="US",
    )
