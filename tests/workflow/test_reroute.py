"""Rerouting a shipment not yet released, on a real Temporal server: an order waiting for its release
wave has its shipment moved to another node by an operator (stock moved, decision amended) and then
releases from there; the order refuses a move it cannot make, naming why, and changes nothing."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from temporalio.testing import WorkflowEnvironment
from typer.testing import CliRunner

from models.inventory import ReservationState
from models.names import RELEASE_WAVE_WORKFLOW, order_workflow_id
from models.order import OrderStatus, OrderView
from models.schedules import WaveReport
from models.shipment import ShipmentState
from omniroute.cli.app import app
from omniroute.client import RequestRejectedError
from tests.fixtures.network import add_node
from tests.fixtures.orders import an_order
from tests.fixtures.temporal import RunningWorker
from tests.fixtures.waves import with_waves
from tests.fixtures.workflows import all_released, run_once, wait_for, warehouse_ships
from workflows.search_attributes import NODES

TEE = "TEE-CREW-BLK"


def reserved_at(w: RunningWorker, node_id: str, sku: str = TEE) -> int:
    return next(n.reserved for n in w.store.availability(sku).nodes if n.node_id == node_id)


def active_reservations(w: RunningWorker, order_id: str) -> list[tuple[str, str, int]]:
    return [(r.key, r.node_id, r.quantity) for r in w.store.reservations(order_id)
            if r.state is ReservationState.ACTIVE]


async def waiting_order(w: RunningWorker) -> tuple[str, str]:
    """Two DCs with tees, an order from Chicago planned at the Illinois DC and held for its wave:
    (order_id, shipment_id)."""
    add_node(w.store, "dc-il", "60106")
    add_node(w.store, "dc-nj", "08817")
    w.store.set_on_hand("dc-il", TEE, 5, source="test")
    w.store.set_on_hand("dc-nj", TEE, 5, source="test")
    order = an_order((TEE, 1))
    await w.sdk.place_order(order)
    view = await wait_for(w, order.order_id, lambda v: len(v.shipments) == 1)
    [shipment] = view.shipments
    assert (shipment.node_id, shipment.state) == ("dc-il", ShipmentState.PENDING), "held for the wave at Illinois"
    return order.order_id, shipment.shipment_id


async def test_an_operator_reroutes_a_waiting_shipment_which_then_releases_from_the_new_node(
        time_skipping_worker: RunningWorker, time_skipping_env: WorkflowEnvironment) -> None:
    w = time_skipping_worker
    with_waves(w, hold_minutes=30)
    order_id, sid = await waiting_order(w)

    moved = await w.sdk.reroute_shipment(order_id, sid, "dc-nj", actor="key-ops1", reason="Illinois is flooded")

    assert (moved.from_node_id, moved.to_node_id, moved.shipment.node_id) == ("dc-il", "dc-nj", "dc-nj")
    assert moved.cost_before_cents and moved.cost_after_cents and moved.cost_after_cents > moved.cost_before_cents
    assert moved.delivery_before is not None and moved.delivery_after is not None
    assert moved.explanation.startswith(f"{sid} rerouted from dc-il to dc-nj by key-ops1 (Illinois is flooded): "
                                        f"cost {moved.cost_before_cents / 100:.2f} USD → "
                                        f"{moved.cost_after_cents / 100:.2f} USD, delivery ")
    assert active_reservations(w, order_id) == [(f"{sid}:r1:{TEE}", "dc-nj", 1)]
    assert (reserved_at(w, "dc-il"), reserved_at(w, "dc-nj")) == (0, 1), "Illinois's unit back, New Jersey's taken"
    view = await w.sdk.get_order(order_id)
    assert view.decision is not None and view.decision.amendments == [moved.explanation]
    assert [(c.node_id, c.total_cents) for c in view.decision.shipments] == [("dc-nj", moved.cost_after_cents)]
    assert view.decision.total_cents == moved.cost_after_cents
    assert moved.explanation in view.events
    record, shipment_record = w.store.get_order(order_id), w.store.get_shipment(sid)
    assert record is not None and record.decision == view.decision, "the read model keeps the amended decision"
    assert shipment_record is not None and shipment_record.node_id == "dc-nj"
    described = await w.temporal.get_workflow_handle(order_workflow_id(order_id)).describe()
    assert described.typed_search_attributes.get(NODES) == ["dc-nj"], "the Nodes search attribute follows"

    await time_skipping_env.sleep(timedelta(minutes=31))
    released = await wait_for(w, order_id, all_released)
    assert [(s.shipment_id, s.node_id) for s in released.shipments] == [(sid, "dc-nj")]
    await warehouse_ships(w, sid)
    final: OrderView = await w.temporal.get_workflow_handle(order_workflow_id(order_id), result_type=OrderView).result()

    assert final.status is OrderStatus.COMPLETED
    nj = next(n for n in w.store.availability(TEE).nodes if n.node_id == "dc-nj")
    il = next(n for n in w.store.availability(TEE).nodes if n.node_id == "dc-il")
    assert (nj.on_hand, nj.reserved, il.on_hand, il.reserved) == (4, 0, 5, 0), "the unit left New Jersey"


async def test_a_rerouted_order_keeps_the_operators_node_through_a_release_wave(
        omniroute_worker: RunningWorker) -> None:
    w = omniroute_worker
    with_waves(w)
    order_id, sid = await waiting_order(w)
    await w.sdk.reroute_shipment(order_id, sid, "dc-nj", actor="key-ops1")

    report = await run_once(w, RELEASE_WAVE_WORKFLOW, WaveReport)

    assert report.ran and report.orders == 0 and report.dispatches == [], "the wave no longer plans the order"
    view = await w.sdk.get_order(order_id)
    assert [(s.node_id, s.state) for s in view.shipments] == [("dc-nj", ShipmentState.PENDING)]


async def test_a_reroute_the_order_cannot_make_is_refused_naming_why_and_changes_nothing(
        omniroute_worker: RunningWorker) -> None:
    w = omniroute_worker
    with_waves(w)
    add_node(w.store, "dc-ca", "90001")  # no tees there
    order_id, sid = await waiting_order(w)
    w.store.set_on_hand("dc-nj", TEE, 0, source="test")
    before = active_reservations(w, order_id)

    refusals = {
        "dc-il": f"shipment {sid} already ships from dc-il",
        "dc-nowhere": "unknown node 'dc-nowhere'",
        "dc-nj": f"not enough stock: {TEE} at dc-nj: 0 available of 1 needed",
        "dc-ca": f"not enough stock: {TEE} at dc-ca: 0 available of 1 needed",
    }
    for node_id, reason in refusals.items():
        with pytest.raises(RequestRejectedError) as refused:
            await w.sdk.reroute_shipment(order_id, sid, node_id, actor="key-ops1")
        assert reason in str(refused.value), node_id
    with pytest.raises(RequestRejectedError, match=f"order {order_id} has no shipment {order_id}-S9"):
        await w.sdk.reroute_shipment(order_id, f"{order_id}-S9", "dc-nj", actor="key-ops1")

    assert active_reservations(w, order_id) == before == [(f"{sid}:{TEE}", "dc-il", 1)]
    assert (reserved_at(w, "dc-il"), reserved_at(w, "dc-nj")) == (1, 0)
    view = await w.sdk.get_order(order_id)
    assert view.shipments[0].node_id == "dc-il" and view.decision is not None and view.decision.amendments == []
    assert not any("rerouted" in event for event in view.events)


async def test_a_released_or_shipped_shipment_is_not_rerouted(omniroute_worker: RunningWorker) -> None:
    w = omniroute_worker
    add_node(w.store, "dc-il", "60106")
    add_node(w.store, "dc-nj", "08817")
    w.store.set_on_hand("dc-il", TEE, 5, source="test")
    w.store.set_on_hand("dc-nj", TEE, 5, source="test")
    order = an_order((TEE, 1))
    await w.sdk.place_order(order)  # no release waves: released at once
    [shipment] = (await wait_for(w, order.order_id, all_released)).shipments

    with pytest.raises(RequestRejectedError, match=f"shipment {shipment.shipment_id} is released: only a shipment "
                                                   "not yet released can be rerouted"):
        await w.sdk.reroute_shipment(order.order_id, shipment.shipment_id, "dc-nj", actor="key-ops1")
    await warehouse_ships(w, shipment.shipment_id, deliver=False)
    await wait_for(w, order.order_id, lambda v: v.shipments[0].state is ShipmentState.SHIPPED)
    with pytest.raises(RequestRejectedError, match=f"shipment {shipment.shipment_id} is shipped"):
        await w.sdk.reroute_shipment(order.order_id, shipment.shipment_id, "dc-nj", actor="key-ops1")

    assert [r.node_id for r in w.store.reservations(order.order_id)] == ["dc-il"]


async def test_the_cli_reroutes_as_its_user(omniroute_worker: RunningWorker, temporal_env: WorkflowEnvironment,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    w = omniroute_worker
    with_waves(w)
    order_id, sid = await waiting_order(w)
    monkeypatch.setattr("getpass.getuser", lambda: "ada")
    env = {"OMNIROUTE_TEMPORAL_ADDRESS": temporal_env.client.service_client.config.target_host,
           "OMNIROUTE_TASK_QUEUE": w.task_queue}
    runner = CliRunner()

    moved = await asyncio.to_thread(runner.invoke, app, [
        "orders", "reroute", order_id, sid, "--node", "dc-nj", "--reason", "rebalance"], env=env)
    same = await asyncio.to_thread(runner.invoke, app, ["orders", "reroute", order_id, sid, "--node", "dc-nj"], env=env)

    assert moved.exit_code == 0, moved.output
    assert f"{sid} rerouted from dc-il to dc-nj by cli:ada (rebalance)" in moved.output
    assert same.exit_code == 1 and "already ships from dc-nj" in same.output
    assert (await w.sdk.get_order(order_id)).shipments[0].node_id == "dc-nj"
