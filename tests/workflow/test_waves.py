"""Release waves on a real Temporal server: planned orders wait for their wave, the wave re-plans
them over the stock they hold (merging a split once stock arrives), and each order swaps its own
reservations and releases."""

from __future__ import annotations

from datetime import timedelta

from temporalio.testing import WorkflowEnvironment

from models.names import RELEASE_WAVE_WORKFLOW, order_workflow_id
from models.order import CancelOrder, OrderStatus
from models.schedules import WaveReport
from models.shipment import ShipmentState
from omniroute.files.cost_files import demo_cost_model_path, load_cost_model
from tests.fixtures.network import add_node
from tests.fixtures.orders import an_order
from tests.fixtures.temporal import RunningWorker
from tests.fixtures.waves import with_waves
from tests.fixtures.workflows import all_released, run_once, wait_for, warehouse_ships

TEE, HOODIE = "TEE-CREW-BLK", "HOODIE-GRY"


async def run_wave(w: RunningWorker) -> WaveReport:
    return await run_once(w, RELEASE_WAVE_WORKFLOW, WaveReport)


async def test_a_split_order_waiting_for_its_wave_is_merged_once_stock_arrives(omniroute_worker: RunningWorker) -> None:
    w = omniroute_worker
    with_waves(w)
    add_node(w.store, "dc-il", "60106")
    add_node(w.store, "dc-nj", "08817")
    w.store.set_on_hand("dc-il", TEE, 5, source="test")
    w.store.set_on_hand("dc-nj", HOODIE, 5, source="test")
    order = an_order((TEE, 1), (HOODIE, 1))
    await w.sdk.place_order(order)
    waiting = await wait_for(w, order.order_id, lambda v: len(v.shipments) == 2)
    assert all(s.state is ShipmentState.PENDING for s in waiting.shipments), "held for the wave, no label yet"
    assert w.sandbox.labels(reference=waiting.shipments[0].shipment_id) == []

    w.store.set_on_hand("dc-il", HOODIE, 3, source="test")  # hoodies reach the Chicago DC
    report = await run_wave(w)

    assert report.ran and report.orders == 1 and report.delivered == 1 and report.cost_after < report.cost_before
    merged = await wait_for(w, order.order_id, lambda v: any(
        s.state is ShipmentState.RELEASED for s in v.shipments))
    live = [s for s in merged.shipments if s.state is not ShipmentState.CANCELLED]
    assert [(s.shipment_id, s.node_id, sorted(line.sku for line in s.lines)) for s in live] == [
        (f"{order.order_id}-S3", "dc-il", sorted([TEE, HOODIE]))]
    assert merged.decision is not None and merged.decision.strategy == "wave"
    # The wave's plan names the cost model and rules it was made with, as an order's first plan does.
    stored_model, stored_rules = w.store.cost_model(), w.store.rules()
    assert stored_model is not None and merged.decision.cost_model_version == stored_model[1]
    assert merged.decision.rules_version == (stored_rules[1] if stored_rules is not None else None)
    assert w.store.availability(HOODIE).total_atp == 5 + 3 - 1, "New Jersey's hoodie went back to stock"
    await warehouse_ships(w, live[0].shipment_id)
    await w.temporal.get_workflow_handle(order_workflow_id(order.order_id)).result()
    final = await w.sdk.get_order(order.order_id)
    assert final.status is OrderStatus.COMPLETED
    assert [label["refunded"] for label in w.sandbox.labels(reference=waiting.shipments[0].shipment_id)] == []


async def test_a_wave_leaves_released_orders_alone_and_does_nothing_while_waves_are_off(
        omniroute_worker: RunningWorker) -> None:
    w = omniroute_worker
    w.store.set_cost_model(load_cost_model(demo_cost_model_path()))
    assert (await run_wave(w)).ran is False

    with_waves(w)
    add_node(w.store, "dc-il", "60106")
    w.store.set_on_hand("dc-il", TEE, 5, source="test")
    order = an_order((TEE, 1))
    await w.sdk.place_order(order)
    await wait_for(w, order.order_id, lambda v: len(v.shipments) == 1)
    report = await run_wave(w)
    assert report.ran and report.dispatches == [], "one node, one shipment: nothing to gain"

    # An operator's cancel still works while the order waits, and frees the stock.
    result = await w.sdk.cancel_order(order.order_id, CancelOrder())
    assert result.status is OrderStatus.CANCELLED
    assert w.store.availability(TEE).total_atp == 5


async def test_without_a_wave_the_order_releases_when_its_hold_ends(
        time_skipping_worker: RunningWorker, time_skipping_env: WorkflowEnvironment) -> None:
    w = time_skipping_worker
    with_waves(w, hold_minutes=30)
    add_node(w.store, "dc-il", "60106")
    w.store.set_on_hand("dc-il", TEE, 5, source="test")
    order = an_order((TEE, 1))
    await w.sdk.place_order(order)
    waiting = await wait_for(w, order.order_id, lambda v: len(v.shipments) == 1)
    assert waiting.shipments[0].state is ShipmentState.PENDING

    await time_skipping_env.sleep(timedelta(minutes=31))

    released = await wait_for(w, order.order_id, all_released)
    assert released.shipments[0].shipment_id == f"{order.order_id}-S1"
