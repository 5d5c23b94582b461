"""Stock received through the gateway reaches orders waiting on backorder at once: the gateway runs the
backorder sweep instead of leaving the units to the schedule's next interval (an hour here)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from temporalio.client import ScheduleAlreadyRunningError, ScheduleUpdate, ScheduleUpdateInput

from models.names import BACKORDER_SWEEP_SCHEDULE
from models.order import OrderStatus
from tests.fixtures.gateway import gateway_for
from tests.fixtures.orders import an_order, with_backorders
from tests.fixtures.temporal import RunningWorker
from tests.fixtures.workflows import all_released, wait_for
from workers.schedules import backorder_sweep_schedule


@pytest.fixture
async def http(omniroute_worker: RunningWorker) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway on the worker's store and task queue; the backorder sweep is scheduled hourly, so
    only a triggered run can plan units within the test."""
    w = omniroute_worker
    with_backorders(w)
    schedule = backorder_sweep_schedule(w.settings.model_copy(update={"backorder_sweep_minutes": 60}))
    try:
        await w.temporal.create_schedule(BACKORDER_SWEEP_SCHEDULE, schedule)
    except ScheduleAlreadyRunningError:  # an earlier test on this server made it: point it at this worker
        def replace(_: ScheduleUpdateInput) -> ScheduleUpdate:
            return ScheduleUpdate(schedule=schedule)

        await w.temporal.get_schedule_handle(BACKORDER_SWEEP_SCHEDULE).update(replace)
    async with gateway_for(w.store, w.sdk) as client:
        yield client


@pytest.mark.parametrize("how", ["receipt", "count"])
async def test_stock_received_for_a_backordered_sku_plans_the_waiting_units_at_once(
    http: httpx.AsyncClient, omniroute_worker: RunningWorker, how: str
) -> None:
    w = omniroute_worker
    order = an_order(("SKU-LATE", 2))
    await w.sdk.place_order(order)
    await wait_for(w, order.order_id, lambda v: v.status is OrderStatus.BACKORDERED)

    if how == "receipt":
        item = {"node_id": "dc-il", "sku": "SKU-LATE", "delta": 2, "kind": "receipt", "source": "wms", "key": how}
        response = await http.post("/v1/inventory:batch", json={"items": [item]})
    else:
        response = await http.put("/v1/inventory/dc-il/SKU-LATE", json={"on_hand": 2})
    assert response.status_code == 200, response.text

    planned = await wait_for(w, order.order_id, all_released, timeout=60)
    assert planned.lines[0].quantity_backordered == 0
    assert planned.lines[0].quantity_filled_from_backorder == 2
    assert w.store.orders_with_backorders() == []


async def test_stock_of_a_sku_nobody_waits_for_starts_no_sweep(
    http: httpx.AsyncClient, omniroute_worker: RunningWorker
) -> None:
    before = await _sweep_runs(omniroute_worker)

    response = await http.put("/v1/inventory/dc-il/SKU-PLENTY", json={"on_hand": 40})

    assert response.status_code == 200, response.text
    assert await _sweep_runs(omniroute_worker) == before


async def _sweep_runs(w: RunningWorker) -> int:
    description = await w.temporal.get_schedule_handle(BACKORDER_SWEEP_SCHEDULE).describe()
    return description.info.num_actions
