"""The measurements: the trivial baseline, orders through their whole lifecycle, and open orders' memory.

Every run starts all its workflows (at most START_CONCURRENCY starts in flight) and lets them run
together, so the figures are capacity, not one workflow's latency. Durations come from the server's
own start and close times of the workflows, not from the driver's clock.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from rich.progress import Progress
from temporalio.client import Client, WorkflowFailureError, WorkflowHandle

from models.names import order_workflow_id
from models.order import OrderStatus, PlaceOrder
from models.shipment import ShipmentState
from omniroute.bench.kit.report import MemorySample, Throughput, read_rss_kib
from omniroute.bench.kit.trivial import TrivialWorkflow, trivial_worker
from omniroute.client import OmnirouteClient
from omniroute.config.settings import Settings
from omniroute.demo.api import GatewayError
from omniroute.demo.warehouse import OrderReader, ShipmentEventSender, SimulatedWarehouse

START_CONCURRENCY = 16
DESCRIBE_CONCURRENCY = 16
SETTLE_S = 3.0
OPEN_POLL_S = 2.0


class BenchError(RuntimeError):
    """A run did not end as it must (an order not completed, a workflow never closed)."""


async def run_baseline(client: Client, settings: Settings, count: int, progress: Progress) -> Throughput:
    """`count` trivial workflows on their own task queue, served by a worker in this process."""
    task_queue = f"bench-trivial-{uuid.uuid4().hex[:8]}"
    bar = progress.add_task("Trivial workflows", total=count)
    worker = trivial_worker(
        client, task_queue,
        max_cached_workflows=settings.worker_max_cached_workflows,
        max_concurrent_workflow_tasks=settings.worker_max_concurrent_workflow_tasks,
        max_concurrent_local_activities=settings.worker_max_concurrent_activities,
    )
    workflow_ids = [f"{task_queue}-{n}" for n in range(count)]
    async with worker:
        handles: list[WorkflowHandle[Any, int]] = []

        async def start(index: int) -> None:
            handles.append(await client.start_workflow(
                TrivialWorkflow.run, index, id=workflow_ids[index], task_queue=task_queue))

        await bounded(START_CONCURRENCY, start, range(count))

        async def finish(handle: WorkflowHandle[Any, int]) -> None:
            await handle.result()
            progress.advance(bar)

        await asyncio.gather(*(finish(h) for h in handles))
    return Throughput("trivial workflow (3 local activities)", count, await server_span(client, workflow_ids))


async def run_orders(
    sdk: OmnirouteClient, orders: Sequence[PlaceOrder], reader: OrderReader, sender: ShipmentEventSender,
    progress: Progress, *, label: str,
) -> Throughput:
    """Place `orders` through the SDK and let the simulated warehouse ship and deliver them all."""
    bar = progress.add_task("Orders completed", total=len(orders))
    warehouse = SimulatedWarehouse(reader, sender, seed=1, step_delay_s=(0.0, 0.01),
                                   on_final=lambda _: progress.advance(bar))

    async def place(index: int) -> None:
        accepted = await sdk.place_order(orders[index])
        warehouse.watch(accepted.order_id, placed_at=0.0)

    try:
        await bounded(START_CONCURRENCY, place, range(len(orders)))
        await warehouse.wait_all()
    finally:
        await warehouse.aclose()
    unfinished = {o.order_id: o.status for o in warehouse.orders.values() if o.status is not OrderStatus.COMPLETED}
    if unfinished:
        raise BenchError(f"{len(unfinished)} orders did not complete: {dict(list(unfinished.items())[:5])}")
    workflow_ids = [order_workflow_id(o.order_id) for o in orders]
    return Throughput(label, len(orders), await server_span(sdk.temporal, workflow_ids))


async def measure_open_orders(
    sdk: OmnirouteClient, orders: Sequence[PlaceOrder], reader: OrderReader, worker_pid: int, progress: Progress
) -> MemorySample:
    """The worker's RSS before placing `orders` and once every one of them waits, label bought, for
    the warehouse (which never comes)."""
    await asyncio.sleep(SETTLE_S)
    before = read_rss_kib(worker_pid)
    placing = progress.add_task("Open orders placed", total=len(orders))
    waiting = progress.add_task("Open orders waiting", total=len(orders))

    async def place(index: int) -> None:
        await sdk.place_order(orders[index])
        progress.advance(placing)

    await bounded(START_CONCURRENCY, place, range(len(orders)))
    pending = {o.order_id for o in orders}
    while pending:
        released = await _released(reader, sorted(pending))
        pending -= released
        progress.advance(waiting, len(released))
        if pending:
            await asyncio.sleep(OPEN_POLL_S)
    await asyncio.sleep(SETTLE_S)
    return MemorySample(open_orders=len(orders), rss_before_kib=before, rss_after_kib=read_rss_kib(worker_pid))


async def _released(reader: OrderReader, order_ids: Sequence[str]) -> set[str]:
    """Those of the orders that have a shipment released to the warehouse (or answered nothing yet)."""
    released: set[str] = set()

    async def check(index: int) -> None:
        try:
            snapshot = await reader.order(order_ids[index])
        except GatewayError as err:
            if err.status < 500:
                raise
            return  # a busy worker answered no query in time: ask again on the next pass
        if any(s.state is ShipmentState.RELEASED for s in snapshot.shipments):
            released.add(snapshot.order_id)
        elif snapshot.is_final:
            raise BenchError(f"order {snapshot.order_id} ended ({snapshot.status.value}) instead of waiting")

    await bounded(DESCRIBE_CONCURRENCY, check, range(len(order_ids)))
    return released


async def server_span(client: Client, workflow_ids: Sequence[str]) -> float:
    """Seconds from the earliest start to the latest close of the workflows, by the server's clock.
    Waits for each to close (an order reports `completed` a moment before its workflow returns)."""
    starts: list[datetime] = []
    closes: list[datetime] = []

    async def describe(index: int) -> None:
        handle = client.get_workflow_handle(workflow_ids[index])
        try:
            await handle.result()
        except WorkflowFailureError as err:
            raise BenchError(f"workflow {workflow_ids[index]} failed: {err.cause}") from err
        description = await handle.describe()
        if description.close_time is None:
            raise BenchError(f"workflow {workflow_ids[index]} has not closed")
        starts.append(description.start_time)
        closes.append(description.close_time)

    await bounded(DESCRIBE_CONCURRENCY, describe, range(len(workflow_ids)))
    return (max(closes) - min(starts)).total_seconds()


async def bounded(limit: int, work: Callable[[int], Awaitable[None]], indexes: range) -> None:
    """Run work(i) for every index, at most `limit` at a time; the first error cancels the rest."""
    gate = asyncio.Semaphore(limit)

    async def guarded(index: int) -> None:
        async with gate:
            await work(index)

    try:
        async with asyncio.TaskGroup() as group:
            for index in indexes:
                group.create_task(guarded(index))
    except ExceptionGroup as errors:
        raise errors.exceptions[0] from None
