"""A simulated warehouse: it watches orders and works their released shipments through the floor.

For every watched order one task polls the order; each shipment it sees `released` (label bought,
handed to the warehouse) gets a task that sends picked → packed → shipped → delivered with small
random pauses. The time from placing the order to the accepted `shipped` event is recorded per
shipment. The order's reader and the event sender are ports, so the demo drives the HTTP gateway
and the benchmark may send the events as Temporal updates through the SDK instead. Shipments at partner
nodes (dropship vendors, answered by their sandbox) are left to the partner until they ship; the
warehouse then plays their carrier and delivers them.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

import httpx

from models.order import OrderStatus
from models.shipment import ShipmentEventType, ShipmentState
from omniroute.demo.api import GatewayError, OrderSnapshot, ShipmentSnapshot
from omniroute.demo.tasks import BackgroundTasks

WAREHOUSE_EVENTS = (
    ShipmentEventType.PICKED, ShipmentEventType.PACKED, ShipmentEventType.SHIPPED, ShipmentEventType.DELIVERED,
)


class OrderReader(Protocol):
    async def order(self, order_id: str) -> OrderSnapshot: ...


class ShipmentEventSender(Protocol):
    async def shipment_event(self, shipment_id: str, event_type: str, event_id: str) -> None: ...


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
        partner_nodes: frozenset[str] = frozenset(),
    ) -> None:
        self._reader, self._sender = reader, sender
        self._partner_nodes = partner_nodes
        self._rng = random.Random(seed)
        self._step_delay_s, self._poll_interval_s = step_delay_s, poll_interval_s
        self._gate = asyncio.Semaphore(max_in_flight)
        self._on_final, self._on_shipped, self._on_held, self._on_seen = on_final, on_shipped, on_held, on_seen
        self._reviewed: set[str] = set()
        self._tasks = BackgroundTasks()
        self._driving: set[str] = set()
        self.orders: dict[str, TrackedOrder] = {}

    def watch(self, order_id: str, placed_at: float, *, ship: bool = True) -> TrackedOrder:
        """Follow `order_id` (placed at `placed_at`, a time.monotonic() value) until it is final;
        with ship=False its shipments are left alone until `allow_shipping`."""
        tracked = self.orders.setdefault(order_id, TrackedOrder(order_id=order_id, placed_at=placed_at, ship=ship))
        self._tasks.spawn(self._follow(tracked))
        return tracked

    def allow_shipping(self, order_id: str) -> None:
        self.orders[order_id].ship = True

    def not_final(self) -> list[TrackedOrder]:
        return [o for o in self.orders.values() if not o.is_final]

    async def wait_all(self) -> None:
        await self._tasks.wait_all()

    async def aclose(self) -> None:
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
        for shipment in snapshot.shipments:
            tracked.shipments[shipment.shipment_id] = shipment
            if shipment.node_id in self._partner_nodes:
                self._carry(tracked, shipment)
                continue
            ready = shipment.state is ShipmentState.RELEASED and tracked.ship
            if ready and shipment.shipment_id not in self._driving:
                self._driving.add(shipment.shipment_id)
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

    async def _work(self, tracked: TrackedOrder, shipment_id: str) -> None:
        """Pick, pack, ship and deliver one shipment; a refused event ends the work (the order
        workflow has moved on, e.g. the shipment was cancelled)."""
        low, high = self._step_delay_s
        for event in WAREHOUSE_EVENTS:
            await asyncio.sleep(self._rng.uniform(low, high))
            if not await self._send(tracked, shipment_id, event):
                return
            if event is ShipmentEventType.SHIPPED:
                tracked.shipped_after_s[shipment_id] = time.monotonic() - tracked.placed_at
                if self._on_shipped:
                    self._on_shipped(tracked, shipment_id)

    async def _send(self, tracked: TrackedOrder, shipment_id: str, event: ShipmentEventType) -> bool:
        delay = 0.2
        while True:
            try:
                async with self._gate:
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
