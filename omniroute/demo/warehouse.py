"""A simulated warehouse: it watches orders and works their released shipments through the floor.

For every watched order one task polls the order. A shipment at a node the warehouse pulls for (a DC
whose WMS pulls: docs/fulfilment-dc.md) is found through the node's pull API instead, acknowledged,
and worked; a cancel the node is asked (`cancel_requested`) is answered with a `cancelled` event.
Shipments at nodes whose WMS is told by webhook (`wms_nodes`) are the WMS's to work. Any other
shipment the order shows `released` is worked as soon as it is seen. Working a shipment sends
picked → packed → shipped → delivered with small random pauses. The time from placing the order to
the accepted `shipped` event (or to the first view showing the shipment gone, when a WMS shipped it
or a carrier's scan came first) is recorded per shipment. A step the carrier's scan overtook is
answered 202 as done (`carrier_first`), so the warehouse goes on as if it had applied; only a 4xx
refusal ends the work on a shipment. The order's reader, the event sender and the
pull API are ports, so the demo drives the HTTP gateway and the benchmark may send the events as
Temporal updates through the SDK instead.
Shipments at partner nodes (a 3PL, dropship vendors: answered by their sandboxes) are left to the
partner until they ship; the warehouse then plays their carrier and delivers them.

At a store (`store_nodes`) the warehouse plays the store's staff: a ship-from-store shipment is
accepted, picked, packed and shipped, unless the order's `store_trouble` has the store reject it or
short pick it (once per order: the lines handed back are sourced again); a pickup is accepted, picked
and put on the pickup shelf (`ready_for_pickup`), and then the customer plays their part: they read
their pickup code in the e-mail the system sent them (`mailbox`), come (curbside: `arrived`, with a
parking spot) and the store posts `collected` with the code. A customer who never comes lets the
pickup window run out: the system cancels the pickup.

With `carrier_tracking`, a shipment whose label was bought through the carrier integration (the
order's view shows its label) is followed by the carrier's tracker, whose webhooks move it to
delivered: the warehouse posts up to `shipped` only. The carrier moves what left without a tracker
(a 3PL's, a vendor's, or any when tracking is off), and then the warehouse posts `delivered` itself.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

import httpx

from models.handoff import NodeShipmentPage
from models.names import order_id_of_shipment
from models.order import OrderStatus
from models.shipment import ShipmentEventType, ShipmentState
from models.shipment import has_left_the_building as has_left
from omniroute.demo.api import GatewayError, OrderSnapshot, ShipmentSnapshot
from omniroute.demo.tasks import BackgroundTasks

WAREHOUSE_EVENTS = (
    ShipmentEventType.PICKED, ShipmentEventType.PACKED, ShipmentEventType.SHIPPED, ShipmentEventType.DELIVERED,
)


class OrderReader(Protocol):
    async def order(self, order_id: str) -> OrderSnapshot: ...


class ShipmentEventSender(Protocol):
    async def shipment_event(self, shipment_id: str, event_type: str, event_id: str) -> None: ...


class StoreEventSender(Protocol):
    """A sender of events that carry data (a reject's reason, short-picked lines, a spot, a pickup code)."""

    async def shipment_event(self, shipment_id: str, event_type: str, event_id: str,
                             data: dict[str, Any] | None = None) -> None: ...


class Mailbox(Protocol):
    async def pickup_code(self, email: str, shipment_id: str) -> str | None: ...


class StoreTrouble(StrEnum):
    """What a store does wrong with a ship-from-store shipment of an order (the first one it gets)."""

    REJECT = "reject"
    SHORT_PICK = "short_pick"


@dataclass(frozen=True)
class Customer:
    """How the demo's customer and store treat one order: picked up at a store (curbside or not), and
    whether the customer comes; the store's trouble with it when it ships from a store."""

    email: str = ""
    pickup: bool = False
    curbside: bool = False
    comes: bool = True
    store_trouble: StoreTrouble | None = None


class NodeShipmentPuller(Protocol):
    async def node_shipments(self, node_id: str, *, state: str | None = None, cancel_requested: bool | None = None,
                             cursor: str | None = None, limit: int = 100) -> NodeShipmentPage: ...

    async def ack_shipment(self, node_id: str, shipment_id: str) -> None: ...


@dataclass
class TrackedOrder:
    """What the warehouse last saw of one order, and when its shipments shipped."""

    order_id: str
    placed_at: float
    ship: bool
    status: OrderStatus | None = None
    shipments: dict[str, ShipmentSnapshot] = field(default_factory=dict)
    shipped_after_s: dict[str, float] = field(default_factory=dict)
    quantity_cancelled: int = 0
    last_error: str | None = None
    was_held: bool = False
    holds: tuple[str, ...] = ()
    backordered: tuple[tuple[str, int], ...] = ()  # (sku, units) waiting for stock now
    was_backordered: bool = False
    cancel_requested: bool = False  # the customer asked to cancel it
    customer: Customer = field(default_factory=Customer)
    # shipment id -> what the store did, and the SKUs it handed back
    store_troubled: dict[str, tuple[StoreTrouble, tuple[str, ...]]] = field(default_factory=dict)
    ready_for_pickup: set[str] = field(default_factory=set)  # shipments put on the pickup shelf
    carrier_exceptions: set[str] = field(default_factory=set)  # shipments a carrier reported an exception for

    @property
    def is_final(self) -> bool:
        return self.status is not None and self.status.is_final

    def delivered_lines(self) -> list[tuple[str, int]]:
        quantities: dict[str, int] = {}
        for shipment in self.shipments.values():
            if shipment.state is ShipmentState.DELIVERED:
                for sku, quantity in shipment.lines:
                    quantities[sku] = quantities.get(sku, 0) + quantity
        return sorted(quantities.items())


class SimulatedWarehouse:
    """Drives watched orders to a final state. `watch` starts a task; `wait_all` returns when every
    watched order is final; `aclose` cancels what is still running. After every read of an order,
    `on_seen(tracked, moved)` says whether it moved (status, shipment states or backorders changed).
    Errors from the reader or the sender never end a task: they are kept in `TrackedOrder.last_error`
    and the task tries again, so the caller decides when to give up."""

    def __init__(
        self,
        reader: OrderReader,
        sender: ShipmentEventSender,
        *,
        seed: int = 0,
        step_delay_s: tuple[float, float] = (0.02, 0.12),
        poll_interval_s: tuple[float, float] = (0.25, 1.5),
        max_in_flight: int = 12,
        on_final: Callable[[TrackedOrder], None] | None = None,
        on_shipped: Callable[[TrackedOrder, str], None] | None = None,
        on_held: Callable[[TrackedOrder], Awaitable[None]] | None = None,
        on_seen: Callable[[TrackedOrder, bool], None] | None = None,
        puller: NodeShipmentPuller | None = None,
        pull_nodes: Collection[str] = (),
        wms_nodes: Collection[str] = (),
        partner_nodes: frozenset[str] = frozenset(),
        store_nodes: Collection[str] = (),
        store_sender: StoreEventSender | None = None,
        mailbox: Mailbox | None = None,
        carrier_tracking: bool = False,
        pickup_wait_s: tuple[float, float] = (0.5, 3.0),
    ) -> None:
        """With `puller`, the shipments at `pull_nodes` are found through the pull API; those at
        `wms_nodes` are left to their WMS. With `store_sender`, the shipments at `store_nodes` are
        worked as a store does (pickups with the codes read from `mailbox`)."""
        self._reader, self._sender = reader, sender
        self._store_sender, self._mailbox = store_sender, mailbox
        self._store_nodes = frozenset(store_nodes) if store_sender is not None else frozenset()
        self._carrier_tracking = carrier_tracking
        self._pickup_wait_s = pickup_wait_s
        self._troubled_orders: set[str] = set()
        self._puller = puller
        self._pull_nodes = tuple(pull_nodes) if puller is not None else ()
        self._not_from_views = set(self._pull_nodes) | set(wms_nodes)
        self._pulling = BackgroundTasks()
        self._partner_nodes = partner_nodes
        self._rng = random.Random(seed)
        self._step_delay_s, self._poll_interval_s = step_delay_s, poll_interval_s
        self._gate = asyncio.Semaphore(max_in_flight)
        self._on_final, self._on_shipped, self._on_held, self._on_seen = on_final, on_shipped, on_held, on_seen
        self._reviewed: set[str] = set()
        self._tasks = BackgroundTasks()
        self._driving: set[str] = set()
        self.orders: dict[str, TrackedOrder] = {}

    def watch(self, order_id: str, placed_at: float, *, ship: bool = True,
              customer: Customer | None = None) -> TrackedOrder:
        """Follow `order_id` (placed at `placed_at`, a time.monotonic() value) until it is final;
        with ship=False its shipments are left alone until `allow_shipping`."""
        tracked = self.orders.setdefault(order_id, TrackedOrder(order_id=order_id, placed_at=placed_at, ship=ship,
                                                                customer=customer or Customer()))
        self._tasks.spawn(self._follow(tracked))
        if self._pull_nodes and not self._pulling.running:
            for node_id in self._pull_nodes:
                self._pulling.spawn(self._pull(node_id))
        return tracked

    def allow_shipping(self, order_id: str) -> None:
        self.orders[order_id].ship = True

    def not_final(self) -> list[TrackedOrder]:
        return [o for o in self.orders.values() if not o.is_final]

    async def wait_all(self) -> None:
        await self._tasks.wait_all()
        await self._pulling.cancel_all()

    async def aclose(self) -> None:
        await self._pulling.cancel_all()
        await self._tasks.cancel_all()

    async def _follow(self, tracked: TrackedOrder) -> None:
        low, high = self._poll_interval_s
        interval = low
        while True:
            seen_before = _progress_of(tracked)
            try:
                async with self._gate:
                    snapshot = await self._reader.order(tracked.order_id)
            except (GatewayError, httpx.TransportError) as exc:
                tracked.last_error = str(exc)
            else:
                self._observe(tracked, snapshot)
            moved = _progress_of(tracked) != seen_before
            if self._on_seen:
                self._on_seen(tracked, moved)
            if tracked.is_final:
                if self._on_final:
                    self._on_final(tracked)
                return
            interval = low if moved else min(interval * 1.5, high)
            await asyncio.sleep(interval)

    def _observe(self, tracked: TrackedOrder, snapshot: OrderSnapshot) -> None:
        tracked.status = snapshot.status
        tracked.was_held = tracked.was_held or snapshot.status is OrderStatus.HELD
        if snapshot.status is OrderStatus.HELD and self._on_held and tracked.order_id not in self._reviewed:
            self._reviewed.add(tracked.order_id)  # an operator looks at each held order once
            self._tasks.spawn(self._review(tracked))
        tracked.quantity_cancelled = snapshot.quantity_cancelled
        tracked.holds, tracked.backordered = snapshot.holds, snapshot.backordered
        tracked.was_backordered = (tracked.was_backordered or bool(snapshot.backordered)
                                   or snapshot.filled_from_backorder > 0)
        tracked.last_error = None
        tracked.carrier_exceptions.update(snapshot.carrier_exceptions)
        for shipment in snapshot.shipments:
            tracked.shipments[shipment.shipment_id] = shipment
            if shipment.exception is not None:
                tracked.carrier_exceptions.add(shipment.shipment_id)
            if shipment.node_id in self._partner_nodes:
                self._carry(tracked, shipment)
                continue
            if has_left(shipment.state):
                # Shipped by the warehouse, a WMS, or scanned by the carrier before the warehouse's
                # `shipped` got in: the time to shipped is when it was first seen gone.
                self._shipped(tracked, shipment.shipment_id)
            ready = shipment.state is ShipmentState.RELEASED and tracked.ship
            if ready and shipment.node_id not in self._not_from_views and shipment.shipment_id not in self._driving:
                self._driving.add(shipment.shipment_id)
                if shipment.node_id in self._store_nodes:
                    self._tasks.spawn(self._store_work(tracked, shipment))
                else:
                    self._tasks.spawn(self._work(tracked, shipment.shipment_id))

    def _carry(self, tracked: TrackedOrder, shipment: ShipmentSnapshot) -> None:
        """A partner node (a dropship vendor) works its shipments itself; once one has shipped, the
        carrier's part is played here: it is delivered."""
        if shipment.state is ShipmentState.SHIPPED and shipment.shipment_id not in self._driving:
            self._driving.add(shipment.shipment_id)
            tracked.shipped_after_s[shipment.shipment_id] = time.monotonic() - tracked.placed_at
            if self._on_shipped:
                self._on_shipped(tracked, shipment.shipment_id)
            self._tasks.spawn(self._deliver(tracked, shipment.shipment_id))

    async def _deliver(self, tracked: TrackedOrder, shipment_id: str) -> None:
        low, high = self._step_delay_s
        await asyncio.sleep(self._rng.uniform(low, high))
        await self._send(tracked, shipment_id, ShipmentEventType.DELIVERED)

    async def _review(self, tracked: TrackedOrder) -> None:
        assert self._on_held is not None
        try:
            await self._on_held(tracked)
        except (GatewayError, httpx.TransportError) as exc:
            tracked.last_error = f"release refused: {exc}"
            self._reviewed.discard(tracked.order_id)  # seen held again: try again

    async def _pull(self, node_id: str) -> None:
        """The node's WMS: take each released shipment of a watched order that may ship (acknowledge,
        then work it), and answer the cancels it is asked with `cancelled`."""
        assert self._puller is not None
        low, high = self._poll_interval_s
        interval = low
        while True:
            found = False
            try:
                async with self._gate:
                    released = await self._puller.node_shipments(node_id, state=ShipmentState.RELEASED.value)
                for item in released.items:
                    tracked = self.orders.get(order_id_of_shipment(item.shipment_id))
                    if tracked is None or not tracked.ship or item.shipment_id in self._driving:
                        continue
                    async with self._gate:
                        await self._puller.ack_shipment(node_id, item.shipment_id)
                    found = True
                    self._driving.add(item.shipment_id)
                    self._tasks.spawn(self._work(tracked, item.shipment_id))
                async with self._gate:
                    asked = await self._puller.node_shipments(node_id, cancel_requested=True)
                for item in asked.items:
                    if item.state not in (ShipmentState.CANCELLED, ShipmentState.DELIVERED) \
                            and not has_left(item.state):
                        tracked = self.orders.get(order_id_of_shipment(item.shipment_id))
                        if tracked is not None:
                            found = await self._send(tracked, item.shipment_id, ShipmentEventType.CANCELLED) or found
            except (GatewayError, httpx.TransportError):
                pass
            interval = low if found else min(interval * 1.5, high)
            await asyncio.sleep(interval)

    async def _work(self, tracked: TrackedOrder, shipment_id: str,
                    events: tuple[ShipmentEventType, ...] = WAREHOUSE_EVENTS) -> None:
        """Pick, pack, ship and deliver one shipment; a refused event ends the work (the order
        workflow has moved on, e.g. the shipment was cancelled). A shipment a carrier tracks is
        delivered by the carrier."""
        low, high = self._step_delay_s
        for event in events:
            if event is ShipmentEventType.DELIVERED and await self._carrier_tracks(tracked, shipment_id):
                return
            await asyncio.sleep(self._rng.uniform(low, high))
            if not await self._send(tracked, shipment_id, event):
                return
            if event is ShipmentEventType.SHIPPED:
                self._shipped(tracked, shipment_id)

    def _shipped(self, tracked: TrackedOrder, shipment_id: str) -> None:
        """Record the time to shipped once per shipment."""
        if shipment_id not in tracked.shipped_after_s:
            tracked.shipped_after_s[shipment_id] = time.monotonic() - tracked.placed_at
            if self._on_shipped:
                self._on_shipped(tracked, shipment_id)

    async def _carrier_tracks(self, tracked: TrackedOrder, shipment_id: str) -> bool:
        """Whether the carrier's tracker follows the shipment: tracking is on and the order's view
        shows the shipment's label (read again when the last view does not: the label of a pull node's
        or a store's shipment may be newer than it)."""
        if not self._carrier_tracking:
            return False
        last = tracked.shipments.get(shipment_id)
        if last is not None and last.labelled:
            return True
        try:
            async with self._gate:
                snapshot = await self._reader.order(tracked.order_id)
        except (GatewayError, httpx.TransportError):
            snapshot = None
        shipments = {s.shipment_id: s for s in snapshot.shipments} if snapshot else tracked.shipments
        shipment = shipments.get(shipment_id)
        return shipment is None or shipment.labelled  # a DC's or a store's shipment always has its label

    async def _store_work(self, tracked: TrackedOrder, shipment: ShipmentSnapshot) -> None:
        """A store's staff at work: a pickup is put on the shelf and handed to its customer; a
        ship-from-store shipment is shipped, or rejected or short picked when the order says so."""
        sid, customer = shipment.shipment_id, tracked.customer
        accepted, picked = ShipmentEventType.ACCEPTED, ShipmentEventType.PICKED
        if shipment.pickup:
            for event in (accepted, picked, ShipmentEventType.READY_FOR_PICKUP):
                await asyncio.sleep(self._rng.uniform(*self._step_delay_s))
                if not await self._send(tracked, sid, event):
                    return
            tracked.ready_for_pickup.add(sid)
            if customer.comes:
                await self._collect(tracked, sid)
            return  # a customer who never comes: the pickup window runs out and the pickup is cancelled
        trouble = customer.store_trouble if tracked.order_id not in self._troubled_orders else None
        if trouble is StoreTrouble.REJECT:
            self._troubled_orders.add(tracked.order_id)
            await asyncio.sleep(self._rng.uniform(*self._step_delay_s))
            if await self._send(tracked, sid, ShipmentEventType.REJECTED, {"reason": "staff short today"}):
                tracked.store_troubled[sid] = (trouble, tuple(sku for sku, _ in shipment.lines))
            return
        if trouble is StoreTrouble.SHORT_PICK:
            self._troubled_orders.add(tracked.order_id)
            if not await self._send(tracked, sid, accepted):
                return
            await asyncio.sleep(self._rng.uniform(*self._step_delay_s))
            # One unit of the first line is not on the shelf; the rest is picked.
            (first_sku, first_qty), *rest = shipment.lines
            lines = [{"sku": first_sku, "quantity_picked": first_qty - 1},
                     *({"sku": sku, "quantity_picked": qty} for sku, qty in rest)]
            if not await self._send(tracked, sid, ShipmentEventType.SHORT_PICKED, {"lines": lines}):
                return
            tracked.store_troubled[sid] = (trouble, (first_sku,) if first_qty > 1 or rest
                                           else tuple(sku for sku, _ in shipment.lines))
            if all(line["quantity_picked"] == 0 for line in lines):
                return  # nothing picked: the whole shipment went back
            await self._work(tracked, sid, WAREHOUSE_EVENTS[1:])
            return
        if await self._send(tracked, sid, accepted):
            await self._work(tracked, sid)

    async def _collect(self, tracked: TrackedOrder, shipment_id: str) -> None:
        """The customer reads the pickup code in their e-mail, comes (curbside: parks and says so),
        and the store hands the order over, posting the code."""
        customer = tracked.customer
        code = None
        low, high = self._pickup_wait_s
        while code is None:  # the e-mail may take a moment
            await asyncio.sleep(self._rng.uniform(low, high))
            if self._mailbox is None:
                return
            try:
                code = await self._mailbox.pickup_code(customer.email, shipment_id)
            except httpx.HTTPError as exc:
                tracked.last_error = f"mailbox: {exc}"
            if tracked.is_final or tracked.shipments[shipment_id].state is ShipmentState.CANCELLED:
                return
        if customer.curbside:
            spot = str(1 + self._rng.randrange(12))
            if not await self._send(tracked, shipment_id, ShipmentEventType.ARRIVED, {"spot": spot}):
                return
            await asyncio.sleep(self._rng.uniform(*self._step_delay_s))
        await self._send(tracked, shipment_id, ShipmentEventType.COLLECTED, {"pickup_code": code})

    async def _send(self, tracked: TrackedOrder, shipment_id: str, event: ShipmentEventType,
                    data: dict[str, Any] | None = None) -> bool:
        delay = 0.2
        while True:
            try:
                async with self._gate:
                    if data is not None and self._store_sender is not None:
                        await self._store_sender.shipment_event(shipment_id, event.value,
                                                                f"{shipment_id}:{event.value}", data)
                    else:
                        await self._sender.shipment_event(shipment_id, event.value, f"{shipment_id}:{event.value}")
                return True
            except GatewayError as exc:
                tracked.last_error = str(exc)
                if exc.status < 500:
                    return False
            except httpx.TransportError as exc:
                tracked.last_error = str(exc)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 3.0)


def _progress_of(tracked: TrackedOrder) -> tuple[object, ...]:
    """What counts as the order moving: its status, its shipments' states, its units on backorder."""
    return tracked.status, tuple(sorted((s.shipment_id, s.state) for s in tracked.shipments.values())), \
        tracked.backordered
