"""One demo run against a running gateway: load the network, place orders, let the simulated
warehouse ship them, cancel a few, return some delivered ones, and count what happened."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum

import httpx
from rich.progress import Progress, TaskID

from models.returns import ReturnStatus, StartReturn
from omniroute.cost_files import demo_catalog_path, load_catalog
from omniroute.demo.api import GatewayApi, GatewayError
from omniroute.demo.network import DemoNetwork, default_data_dir
from omniroute.demo.orders import DemoOrder, generate_orders, plan_returns
from omniroute.demo.summary import DemoSummary, ReturnOutcome, summarize
from omniroute.demo.warehouse import SimulatedWarehouse, TrackedOrder

LOAD_CONCURRENCY = 16
INTAKE_CONCURRENCY = 16
RETURN_CONCURRENCY = 8
RETURN_POLL_S = (0.3, 1.5)


@dataclass(frozen=True)
class DemoPlan:
    """How many orders and returns, from which seed; `run_tag` keeps this run's ids apart."""

    orders: int
    returns: int
    seed: int
    run_tag: str


class DemoScenario:
    """Runs a DemoPlan through `api`, reporting progress on `progress`. `run` never raises for
    what the system answers: errors are kept per order and return, and whatever is not final when
    the time is up is listed in the summary."""

    def __init__(self, api: GatewayApi, network: DemoNetwork, plan: DemoPlan, progress: Progress) -> None:
        self._api, self._network, self._plan, self._progress = api, network, plan, progress
        self._orders = generate_orders(network, plan.orders, seed=plan.seed, run_tag=plan.run_tag)
        self._final_bar: TaskID | None = None
        self._shipped_bar: TaskID | None = None
        self.warehouse = SimulatedWarehouse(
            api, api, seed=plan.seed + 1, on_final=self._order_final, on_shipped=self._shipment_shipped,
            on_held=self._review_hold,
        )
        self.held: set[str] = set()
        self.intake_errors: dict[str, str] = {}
        self.returns: dict[str, ReturnOutcome] = {}
        self._side_tasks: set[asyncio.Task[None]] = set()
        self.timed_out = False

    async def run(self, *, timeout_s: float) -> DemoSummary:
        started = time.monotonic()
        try:
            async with asyncio.timeout(timeout_s):
                await self._load_network()
                await self._place_orders()
                await self.warehouse.wait_all()
                await asyncio.gather(*self._side_tasks)
                await self._run_returns()
        except TimeoutError:
            self.timed_out = True
        finally:
            await self.warehouse.aclose()
            for task in self._side_tasks:
                task.cancel()
        return self.summary(elapsed_s=time.monotonic() - started)

    def summary(self, *, elapsed_s: float) -> DemoSummary:
        unplaced = [TrackedOrder(order_id=order_id, placed_at=0.0, ship=False, last_error=error)
                    for order_id, error in self.intake_errors.items()]
        return summarize([*self.warehouse.orders.values(), *unplaced], self.returns.values(),
                         placed=len(self._orders), elapsed_s=elapsed_s)

    def problems(self) -> list[str]:
        """One line per order or return that is not final: its id, last status and last error."""
        lines = [f"order {order_id}: not placed: {error}" for order_id, error in self.intake_errors.items()]
        for tracked in sorted(self.warehouse.not_final(), key=lambda o: o.order_id):
            lines.append(_problem(f"order {tracked.order_id}", tracked.status, tracked.last_error))
        for outcome in self.returns.values():
            if not outcome.is_final:
                lines.append(_problem(f"return {outcome.rma}", outcome.status, outcome.last_error))
        return lines

    # -- phases -----------------------------------------------------------------------------------

    async def _load_network(self) -> None:
        network = self._network
        bar = self._progress.add_task("Loading network", total=len(network.nodes) + len(network.inventory))
        for node in network.nodes:  # nodes first: stock refers to them
            await self._api.put_node(node)
            self._progress.advance(bar)

        async def put(row_index: int) -> None:
            row = network.inventory[row_index]
            await self._api.put_stock(row.node_id, row.sku, row.on_hand)
            self._progress.advance(bar)

        await _bounded(LOAD_CONCURRENCY, put, range(len(network.inventory)))
        await self._load_sourcing()

    async def _load_sourcing(self) -> None:
        """The demo's rate cards, SKU weights and order rules, through the same API an operator uses."""
        data = default_data_dir()
        bar = self._progress.add_task("Loading sourcing config", total=3)
        await self._api.put_sourcing_document("cost-model", data.joinpath("cost_model.yaml").read_text("utf-8"))
        self._progress.advance(bar)
        await self._api.put_skus(list(load_catalog(demo_catalog_path()).skus.values()))
        self._progress.advance(bar)
        await self._api.put_sourcing_document("rules", data.joinpath("rules.yaml").read_text("utf-8"))
        self._progress.advance(bar)

    async def _review_hold(self, tracked: TrackedOrder) -> None:
        """The demo's operator reviews each held order and lets it go on."""
        self.held.add(tracked.order_id)
        await self._api.release_hold(tracked.order_id, released_by="demo-operator", reason="reviewed in the demo")

    async def _place_orders(self) -> None:
        total = len(self._orders)
        placing = self._progress.add_task("Placing orders", total=total)
        self._shipped_bar = self._progress.add_task("Shipments shipped", total=None)
        self._final_bar = self._progress.add_task("Orders final", total=total)

        async def place(index: int) -> None:
            demo_order = self._orders[index]
            placed_at = time.monotonic()
            try:
                await self._api.place_order(demo_order.order)
            except (GatewayError, httpx.TransportError) as err:
                self.intake_errors[demo_order.order_id] = str(err)
            else:
                self.warehouse.watch(demo_order.order_id, placed_at, ship=not demo_order.cancel_before_shipping)
                if demo_order.cancel_before_shipping:
                    self._spawn(self._cancel(demo_order))
            self._progress.advance(placing)

        await _bounded(INTAKE_CONCURRENCY, place, range(total))

    async def _cancel(self, demo_order: DemoOrder) -> None:
        """The customer changes their mind before anything ships. If the gateway refuses (nothing
        left to cancel), the warehouse ships the order after all, so that it still ends."""
        try:
            await self._api.cancel_order(demo_order.order_id)
        except (GatewayError, httpx.TransportError) as err:
            self.warehouse.orders[demo_order.order_id].last_error = f"cancel refused: {err}"
            self.warehouse.allow_shipping(demo_order.order_id)

    async def _run_returns(self) -> None:
        delivered = {o.order_id: o.delivered_lines() for o in self.warehouse.orders.values()}
        requests = plan_returns(delivered, self._plan.returns, seed=self._plan.seed + 2, run_tag=self._plan.run_tag)
        bar = self._progress.add_task("Returns final", total=len(requests))
        for request in requests:
            self.returns[request.rma] = ReturnOutcome(rma=request.rma, order_id=request.order_id)

        async def one(index: int) -> None:
            await self._return(requests[index])
            self._progress.advance(bar)

        await _bounded(RETURN_CONCURRENCY, one, range(len(requests)))

    async def _return(self, request: StartReturn) -> None:
        """Start the RMA, wait for its label, report the parcel received, wait until it ends."""
        outcome = self.returns[request.rma]
        received_sent = False
        interval = RETURN_POLL_S[0]
        while True:
            try:
                if outcome.status is None:
                    await self._api.start_return(request)
                snapshot = await self._api.return_status(request.rma)
                outcome.status = snapshot.status
                if snapshot.is_final:
                    return
                if snapshot.status is ReturnStatus.AWAITING_RECEIPT and not received_sent:
                    await self._api.return_event(request.rma, "received")
                    received_sent = True
                    interval = RETURN_POLL_S[0]
            except (GatewayError, httpx.TransportError) as err:
                outcome.last_error = str(err)
            await asyncio.sleep(interval)
            interval = min(interval * 1.5, RETURN_POLL_S[1])

    # -- progress ---------------------------------------------------------------------------------

    def _order_final(self, _: TrackedOrder) -> None:
        if self._final_bar is not None:
            self._progress.advance(self._final_bar)

    def _shipment_shipped(self, _: TrackedOrder, __: str) -> None:
        if self._shipped_bar is not None:
            self._progress.advance(self._shipped_bar)

    def _spawn(self, coroutine: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._side_tasks.add(task)


def _problem(what: str, status: StrEnum | None, error: str | None) -> str:
    line = f"{what}: {status.value if status is not None else 'never seen'}"
    return f"{line} ({error})" if error else line


async def _bounded(limit: int, work: Callable[[int], Awaitable[None]], indexes: range) -> None:
    """Run work(i) for every index, at most `limit` at a time."""
    gate = asyncio.Semaphore(limit)

    async def guarded(index: int) -> None:
        async with gate:
            await work(index)

    await asyncio.gather(*(guarded(i) for i in indexes))
