"""The demo's receiving dock: stock for orders waiting on backorder arrives, as a WMS would report it.

When an order shows units on backorder, a purchase order for exactly those units is "received" a
moment later at a distribution centre and posted to the gateway's inventory API as a receipt (a
delta with an idempotency key). The gateway then wakes the backorder sweep and the order plans the
units. If the order still waits `resend_after_s` after a receipt (another order took the units
first), another receipt follows. Receipts are counted, so the summary can say what came in.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import httpx

from models.network import NodeKind
from omniroute.demo.api import GatewayError
from omniroute.demo.network import DemoNetwork
from omniroute.demo.tasks import BackgroundTasks
from omniroute.demo.warehouse import TrackedOrder

RECEIVING_SOURCE = "demo-wms"


class StockReceiver(Protocol):
    async def receive_stock(self, node_id: str, sku: str, units: int, *, source: str, key: str) -> None: ...


@dataclass(frozen=True)
class Receipt:
    order_id: str
    node_id: str
    sku: str
    units: int


def receiving_node(network: DemoNetwork, sku: str) -> str:
    """Where a purchase order of `sku` is received: the DC that held the most of it, else the first DC."""
    dcs = sorted(node.node_id for node in network.nodes if node.kind is NodeKind.DC)
    if not dcs:
        raise ValueError("the demo network has no distribution centre to receive stock")
    return max(dcs, key=lambda node_id: network.on_hand(node_id, sku))  # max keeps the first of equals


class SimulatedReceiving:
    """Posts receipts for the units orders wait for. `observe` is called with each order the warehouse
    sees move; `aclose` cancels receipts still on their way."""

    def __init__(
        self,
        receiver: StockReceiver,
        network: DemoNetwork,
        *,
        seed: int = 0,
        lead_time_s: tuple[float, float] = (1.0, 3.0),
        resend_after_s: float = 30.0,
        run_tag: str = "demo",
        on_received: Callable[[Receipt], None] | None = None,
    ) -> None:
        self._receiver, self._network = receiver, network
        self._rng = random.Random(seed)
        self._lead_time_s, self._resend_after_s, self._run_tag = lead_time_s, resend_after_s, run_tag
        self._on_received = on_received
        self._last_sent: dict[tuple[str, str], float] = {}
        self._rounds: dict[tuple[str, str], int] = {}
        self._tasks = BackgroundTasks()
        self.receipts: list[Receipt] = []
        self.last_error: str | None = None

    def observe(self, tracked: TrackedOrder) -> None:
        now = time.monotonic()
        for sku, units in tracked.backordered:
            key = (tracked.order_id, sku)
            sent = self._last_sent.get(key)
            if sent is not None and now - sent < self._resend_after_s:
                continue
            self._last_sent[key] = now
            self._rounds[key] = self._rounds.get(key, 0) + 1
            self._tasks.spawn(self._receive(tracked.order_id, sku, units, self._rounds[key]))

    def waiting_since(self, order_id: str, sku: str) -> float | None:
        """When the last receipt for this order's `sku` was sent on its way (time.monotonic())."""
        return self._last_sent.get((order_id, sku))

    async def aclose(self) -> None:
        await self._tasks.cancel_all()

    async def _receive(self, order_id: str, sku: str, units: int, round_no: int) -> None:
        await asyncio.sleep(self._rng.uniform(*self._lead_time_s))
        receipt = Receipt(order_id=order_id, node_id=receiving_node(self._network, sku), sku=sku, units=units)
        key = f"{RECEIVING_SOURCE}:{self._run_tag}:{order_id}:{sku}:{round_no}"
        try:
            await self._receiver.receive_stock(receipt.node_id, sku, units, source=RECEIVING_SOURCE, key=key)
        except (GatewayError, httpx.TransportError) as err:
            self.last_error = f"receipt of {units} x {sku} refused: {err}"
            self._last_sent.pop((order_id, sku), None)  # the next sighting tries again
            return
        self.receipts.append(receipt)
        if self._on_received:
            self._on_received(receipt)
