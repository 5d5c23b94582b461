"""The demo's returns desk: customers send back part of a delivered order while other orders still run.

The orders whose customers return something are chosen up front (`orders.choose_returns`); each
return starts as soon as its order is completed, so returns run beside the order traffic instead of
after it. A chosen order that ends with nothing delivered is replaced, once every order is final,
by another completed order. Each return is driven to its end: the RMA is opened, the carrier's
return label awaited, the parcel reported received at the return node, and the restock and refund
awaited.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Iterable
from typing import Protocol

import httpx

from models.order import OrderStatus
from models.returns import ReturnStatus, StartReturn
from omniroute.demo.api import GatewayError, ReturnSnapshot
from omniroute.demo.orders import return_request
from omniroute.demo.summary import ReturnOutcome
from omniroute.demo.tasks import BackgroundTasks
from omniroute.demo.warehouse import TrackedOrder

RETURN_POLL_S = (0.3, 1.5)


class ReturnsApi(Protocol):
    async def start_return(self, request: StartReturn) -> None: ...

    async def return_status(self, rma: str) -> ReturnSnapshot: ...

    async def return_event(self, rma: str, event_type: str = "received") -> None: ...


class ReturnsDesk:
    """Starts `count` returns of the `chosen` orders as they complete; `outcomes` holds each RMA's last
    status. `on_moved` is called whenever a return's status changes."""

    def __init__(
        self,
        api: ReturnsApi,
        chosen: Iterable[str],
        count: int,
        *,
        seed: int,
        run_tag: str,
        on_moved: Callable[[ReturnOutcome], None] | None = None,
        poll_s: tuple[float, float] = RETURN_POLL_S,
    ) -> None:
        self._api, self._chosen, self._count = api, set(chosen), count
        self._seed, self._run_tag, self._on_moved, self._poll_s = seed, run_tag, on_moved, poll_s
        self._returned: set[str] = set()
        self._tasks = BackgroundTasks()
        self.outcomes: dict[str, ReturnOutcome] = {}

    def observe(self, tracked: TrackedOrder) -> None:
        """An order moved: if it is one of the chosen and has completed, its customer sends something back."""
        if tracked.order_id in self._chosen and tracked.status is OrderStatus.COMPLETED:
            self._start(tracked)

    async def finish(self, orders: Iterable[TrackedOrder]) -> None:
        """Once every order is final: make up for chosen orders that delivered nothing, then wait until
        every return has ended."""
        completed = sorted((o for o in orders if o.status is OrderStatus.COMPLETED and o.delivered_lines()),
                           key=lambda o: o.order_id)
        spare = [o for o in completed if o.order_id not in self._returned]
        random.Random(self._seed).shuffle(spare)
        for tracked in spare[:max(0, self._count - len(self._returned))]:
            self._start(tracked)
        await self._tasks.wait_all()

    async def aclose(self) -> None:
        await self._tasks.cancel_all()

    def _start(self, tracked: TrackedOrder) -> None:
        delivered = tracked.delivered_lines()
        if tracked.order_id in self._returned or len(self._returned) >= self._count or not delivered:
            return
        self._returned.add(tracked.order_id)
        request = return_request(tracked.order_id, delivered, len(self._returned), seed=self._seed,
                                 run_tag=self._run_tag)
        self.outcomes[request.rma] = ReturnOutcome(rma=request.rma, order_id=tracked.order_id)
        self._tasks.spawn(self._drive(request))

    async def _drive(self, request: StartReturn) -> None:
        """Open the RMA, wait for its label, report the parcel received, wait until it ends."""
        outcome = self.outcomes[request.rma]
        received_sent = False
        low, high = self._poll_s
        interval = low
        while True:
            try:
                if outcome.status is None:
                    await self._api.start_return(request)
                snapshot = await self._api.return_status(request.rma)
                if snapshot.status is not outcome.status:
                    outcome.status = snapshot.status
                    interval = low
                    if self._on_moved:
                        self._on_moved(outcome)
                if snapshot.is_final:
                    return
                if snapshot.status is ReturnStatus.AWAITING_RECEIPT and not received_sent:
                    await self._api.return_event(request.rma, "received")
                    received_sent = True
                outcome.last_error = None
            except (GatewayError, httpx.TransportError) as err:
                outcome.last_error = str(err)
            await asyncio.sleep(interval)
            interval = min(interval * 1.5, high)
