"""A slow app DB must not make an order's history unreplayable.

Two shipments ship at once while the SQLite file is locked by another writer: both commits wait,
the workflow task is heartbeated meanwhile (a 1 s task timeout, which the shipments' fulfilments
inherit from their order, makes that happen quickly), and every history, the order's and its
fulfilments', must still replay against the code that wrote it."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from datetime import timedelta

from temporalio.common import WorkflowIDReusePolicy
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from models.names import ORDER_WORKFLOW, fulfilment_workflow_id, order_workflow_id
from models.order import OrderStatus
from models.shipment import ShipmentEvent, ShipmentEventType
from omniroute.client import OmnirouteClient
from store import Store
from tests.fixtures.eventually import eventually_reads
from tests.fixtures.network import add_node
from tests.fixtures.orders import an_order
from tests.fixtures.sandbox import RunningSandbox
from tests.fixtures.temporal import DATA_CONVERTER, RunningWorker, worker_settings
from tests.fixtures.workflows import all_released, wait_for
from workers.main import PASSTHROUGH, WORKFLOWS, running_worker


def _hold_write_lock(path: str, seconds: float, held: threading.Event) -> None:
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
        held.set()
        threading.Event().wait(seconds)
        connection.execute("COMMIT")
    finally:
        connection.close()


async def test_shipments_committing_together_on_a_locked_db_leave_a_replayable_history(
        omniroute_worker: RunningWorker) -> None:
    w = omniroute_worker
    add_node(w.store, "dc-il", "60106")
    add_node(w.store, "dc-nj", "08817")
    w.store.set_on_hand("dc-il", "SKU-L", 1, source="test")
    w.store.set_on_hand("dc-nj", "SKU-L", 1, source="test")
    order = an_order(("SKU-L", 2))
    handle = await w.temporal.start_workflow(
        ORDER_WORKFLOW, order, id=order_workflow_id(order.order_id), task_queue=w.task_queue,
        task_timeout=timedelta(seconds=1), id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE)
    view = await wait_for(w, order.order_id, all_released)
    ids = [s.shipment_id for s in view.shipments]
    assert len(ids) == 2

    held = threading.Event()
    db_path = str(w.store.engine.url.database)
    locker = threading.Thread(target=_hold_write_lock, args=(db_path, 2.5, held))
    locker.start()
    assert held.wait(5)
    for sid in ids:
        await w.sdk.send_shipment_event(ShipmentEvent(shipment_id=sid, type=ShipmentEventType.SHIPPED))
    await asyncio.to_thread(locker.join)
    for sid in ids:
        await w.sdk.send_shipment_event(ShipmentEvent(shipment_id=sid, type=ShipmentEventType.DELIVERED))
    await handle.result()

    for workflow_id in [handle.id, *(fulfilment_workflow_id(sid) for sid in ids)]:
        history = await w.temporal.get_workflow_handle(workflow_id).fetch_history()
        result = await _replayer().replay_workflow(history, raise_on_replay_failure=False)
        assert result.replay_failure is None, f"{workflow_id}: {result.replay_failure}"


def _replayer() -> Replayer:
    return Replayer(workflows=list(WORKFLOWS), data_converter=DATA_CONVERTER,
                    workflow_runner=SandboxedWorkflowRunner(
                        restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH)))


async def test_an_order_completes_on_a_worker_that_replays_every_task(
        temporal_env: WorkflowEnvironment, sqlite_store: Store, sandbox: RunningSandbox) -> None:
    """With no workflow cache, every workflow task replays the whole history first: any command
    that would come out differently on replay fails the order here."""
    settings = worker_settings(sandbox, worker_max_cached_workflows=0)
    sdk = OmnirouteClient(temporal_env.client, task_queue=settings.task_queue)
    add_node(sqlite_store, "dc-il", "60106")
    add_node(sqlite_store, "dc-nj", "08817")
    sqlite_store.set_on_hand("dc-il", "SKU-N", 1, source="test")
    sqlite_store.set_on_hand("dc-nj", "SKU-N", 2, source="test")
    order = an_order(("SKU-N", 3))

    async with running_worker(settings, client=temporal_env.client, store=sqlite_store):
        await sdk.place_order(order)
        # Every query replays the whole history on this cacheless worker, so the wait is long; the
        # order's view (not the read model, which a fulfilment writes before its release task completes)
        # says released only once each fulfilment has reported it.
        view = await eventually_reads(lambda: sdk.get_order(order.order_id), all_released,
                                      f"order {order.order_id} to have every shipment released", timeout=120)
        for shipment in view.shipments:
            for step in (ShipmentEventType.PICKED, ShipmentEventType.SHIPPED, ShipmentEventType.DELIVERED):
                await sdk.send_shipment_event(ShipmentEvent(shipment_id=shipment.shipment_id, type=step))
        await temporal_env.client.get_workflow_handle(order_workflow_id(order.order_id)).result()
        final = await sdk.get_order(order.order_id)

    assert final.status is OrderStatus.COMPLETED and len(final.shipments) == 2


async def test_an_order_whose_intake_waits_on_a_locked_db_replays(omniroute_worker: RunningWorker) -> None:
    """The first local activity (record) outlives a workflow-task heartbeat, so the intake rules and
    the plan run in a later workflow task than the one that started the order; the history must still
    replay against the code that wrote it."""
    w = omniroute_worker
    add_node(w.store, "dc-il", "60106")
    w.store.set_on_hand("dc-il", "SKU-R", 1, source="test")
    order = an_order(("SKU-R", 1))
    held = threading.Event()
    locker = threading.Thread(target=_hold_write_lock, args=(str(w.store.engine.url.database), 2.5, held))
    locker.start()
    assert held.wait(5)
    handle = await w.temporal.start_workflow(
        ORDER_WORKFLOW, order, id=order_workflow_id(order.order_id), task_queue=w.task_queue,
        task_timeout=timedelta(seconds=1), id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE)
    await asyncio.to_thread(locker.join)
    view = await wait_for(w, order.order_id, all_released)
    for step in (ShipmentEventType.SHIPPED, ShipmentEventType.DELIVERED):
        await w.sdk.send_shipment_event(ShipmentEvent(shipment_id=view.shipments[0].shipment_id, type=step))
    await handle.result()

    history = await handle.fetch_history()
    tasks_before_record = 0
    for event in history.events:
        if event.HasField("workflow_task_completed_event_attributes"):
            tasks_before_record += 1
        if event.HasField("marker_recorded_event_attributes") and event.marker_recorded_event_attributes.marker_name \
                == "core_local_activity":
            break
    assert tasks_before_record >= 2, "the record step did outlive a workflow task (the case under test)"
    result = await _replayer().replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure
