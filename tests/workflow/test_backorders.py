"""The backorder policy on the time-skipping server: units no node can ship wait for stock, are
planned again every hour, ship when stock arrives, and are cancelled after two weeks of waiting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from temporalio.testing import WorkflowEnvironment

from models.names import BACKORDER_SWEEP_WORKFLOW, order_workflow_id
from models.order import CancelOrder, LineStatus, OrderStatus
from models.records import OrderRecord
from models.schedules import BackorderSweep
from tests.fixtures.orders import an_order, with_backorders
from tests.fixtures.temporal import RunningWorker
from tests.fixtures.workflows import all_released, run_once, wait_for, warehouse_ships
from workflows.order_planning import BACKORDER_MAX_WAIT, BACKORDER_RETRY_EVERY


async def test_a_backordered_line_ships_once_stock_arrives(time_skipping_worker: RunningWorker,
                                                           time_skipping_env: WorkflowEnvironment) -> None:
    w = time_skipping_worker
    with_backorders(w)
    w.store.set_on_hand("dc-il", "SKU-IN", 5, source="test")
    order = an_order(("SKU-IN", 1), ("SKU-OUT", 2))
    await w.sdk.place_order(order)

    waiting = await wait_for(w, order.order_id, all_released)
    assert waiting.status is OrderStatus.FULFILLING
    assert [(line.status, line.quantity_backordered) for line in waiting.lines] == [
        (LineStatus.ALLOCATED, 0), (LineStatus.BACKORDERED, 2)]
    assert [line.quantity_filled_from_backorder for line in waiting.lines] == [0, 0]
    assert len(waiting.shipments) == 1
    await warehouse_ships(w, waiting.shipments[0].shipment_id)
    shipped = await wait_for(w, order.order_id, lambda v: v.shipments[0].state.value == "delivered")
    assert shipped.status is OrderStatus.PARTIALLY_SHIPPED, "not complete while units wait"

    w.store.set_on_hand("dc-il", "SKU-OUT", 3, source="test")
    await time_skipping_env.sleep(BACKORDER_RETRY_EVERY + timedelta(minutes=1))
    planned = await wait_for(w, order.order_id, lambda v: len(v.shipments) == 2 and all_released(
        v.model_copy(update={"shipments": v.shipments[1:]})))

    second = planned.shipments[1]
    assert second.shipment_id == f"{order.order_id}-S2" and [line.sku for line in second.lines] == ["SKU-OUT"]
    assert planned.lines[1].quantity_backordered == 0 and planned.lines[1].status is LineStatus.ALLOCATED
    assert [line.quantity_filled_from_backorder for line in planned.lines] == [0, 2]
    assert w.store.availability("SKU-OUT").total_atp == 1
    await warehouse_ships(w, second.shipment_id)
    await w.temporal.get_workflow_handle(order_workflow_id(order.order_id)).result()
    final = await w.sdk.get_order(order.order_id)
    assert final.status is OrderStatus.COMPLETED
    confirmations = [m for m in w.sandbox.messages(to=str(order.customer.email)) if "We have" in m["subject"]]
    assert "backordered: SKU-OUT x2" in confirmations[0]["text"], "the first confirmation says what waits"
    assert "backorder: now planned" in confirmations[1]["text"]


async def test_an_order_nothing_can_fill_waits_on_backorder_then_is_cancelled_after_two_weeks(
        time_skipping_worker: RunningWorker, time_skipping_env: WorkflowEnvironment) -> None:
    w = time_skipping_worker
    with_backorders(w)
    order = an_order(("SKU-NONE", 1))
    await w.sdk.place_order(order)
    waiting = await wait_for(w, order.order_id, lambda v: v.status is OrderStatus.BACKORDERED)
    assert waiting.lines[0].quantity_backordered == 1 and waiting.shipments == []
    assert any("on backorder" in m["subject"] for m in w.sandbox.messages(to=str(order.customer.email)))

    await time_skipping_env.sleep(BACKORDER_MAX_WAIT + BACKORDER_RETRY_EVERY)

    final = await wait_for(w, order.order_id, lambda v: v.status is OrderStatus.CANCELLED, timeout=120)
    assert final.lines[0].quantity_cancelled == 1 and final.lines[0].quantity_backordered == 0
    assert f"within {BACKORDER_MAX_WAIT.days} days" in (final.lines[0].cancel_reason or "")


async def test_a_backordered_order_can_be_cancelled_while_it_waits(time_skipping_worker: RunningWorker) -> None:
    w = time_skipping_worker
    with_backorders(w)
    order = an_order(("SKU-NONE", 3))
    await w.sdk.place_order(order)
    await wait_for(w, order.order_id, lambda v: v.status is OrderStatus.BACKORDERED)

    result = await w.sdk.cancel_order(order.order_id, CancelOrder(reason="found it elsewhere"))

    assert result.status is OrderStatus.CANCELLED and result.cancelled_line_nos == [1]
    final = await w.sdk.get_order(order.order_id)
    assert final.lines[0].quantity_cancelled == 3 and final.lines[0].quantity_backordered == 0


async def test_the_backorder_sweep_has_an_order_re_plan_as_soon_as_its_stock_is_back(
        omniroute_worker: RunningWorker) -> None:
    """On the real-time server: the hourly retry is far off, so only the sweep can plan the units."""
    w = omniroute_worker
    with_backorders(w)
    order = an_order(("SKU-LATE", 2))
    await w.sdk.place_order(order)
    await wait_for(w, order.order_id, lambda v: v.status is OrderStatus.BACKORDERED)
    assert w.store.orders_with_backorders() == [(order.order_id, order_workflow_id(order.order_id), ["SKU-LATE"])]

    nothing_yet = await sweep(w)
    assert nothing_yet.waiting == 1 and nothing_yet.due == []

    w.store.set_on_hand("dc-il", "SKU-LATE", 5, source="test")
    swept = await sweep(w)

    assert swept.due == [order_workflow_id(order.order_id)] and swept.signalled == 1
    planned = await wait_for(w, order.order_id, all_released)
    assert planned.lines[0].quantity_backordered == 0 and planned.status is OrderStatus.FULFILLING
    assert w.store.orders_with_backorders() == [], "the read model no longer lists it"


async def sweep(w: RunningWorker) -> BackorderSweep:
    return await run_once(w, BACKORDER_SWEEP_WORKFLOW, BackorderSweep)


async def test_a_finished_order_is_not_swept_even_if_its_backorders_were_left_recorded(
        omniroute_worker: RunningWorker) -> None:
    w = omniroute_worker
    with_backorders(w)
    w.store.set_on_hand("dc-il", "SKU-GONE", 3, source="test")
    order = an_order(("SKU-GONE", 1))
    w.store.record_order(OrderRecord(
        order_id=order.order_id, workflow_id=order_workflow_id(order.order_id), channel=order.channel,
        channel_order_id=order.channel_order_id, status=OrderStatus.CANCELLED, currency=order.currency,
        customer=order.customer, ship_to=order.ship_to, lines=order.lines, created_at=datetime.now(UTC)))
    w.store.set_order_backorders(order.order_id, ["SKU-GONE"])

    assert w.store.orders_with_backorders() == []
    assert (await sweep(w)).due == []
