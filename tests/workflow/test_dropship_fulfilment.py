"""A dropship vendor's fulfilment on the time-skipping test server, with the real worker, a real SQLite
ledger, the vendor sandbox taking signed purchase orders, and the vendor answering through a real
gateway with its node key: accepted and shipped; rejected and re-sourced; silent past its accept SLA
(a durable timer, skipped through) and re-sourced; a cancel before it ships, which the vendor accepts.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from temporalio.testing import WorkflowEnvironment

from models import names
from models.order import CancelOrder, OrderStatus, OrderView
from models.shipment import ShipmentEvent, ShipmentEventType, ShipmentState
from omniroute.client import OmnirouteClient
from store import Store
from tests.fixtures.dropship import configure_vendor, node_key, purchase_orders, serving_gateway, vendor_node
from tests.fixtures.eventually import eventually
from tests.fixtures.network import add_node
from tests.fixtures.orders import an_order
from tests.fixtures.sandbox import RunningSandbox
from tests.fixtures.temporal import RunningWorker, worker_settings
from tests.fixtures.workflows import wait_for, warehouse_ships
from workers.main import running_worker

VENDOR = "vendor-grills"


@dataclass
class VendorWorld:
    worker: RunningWorker
    env: WorkflowEnvironment
    gateway_url: str

    def vendor(self, *, accept_minutes: int | None = 30, **knobs: object) -> None:
        """The vendor near Chicago (planned first), onboarded at the sandbox with its node key."""
        sandbox = self.worker.sandbox
        self.worker.store.upsert_node(vendor_node(sandbox.url, VENDOR, "60106", accept_minutes=accept_minutes))
        configure_vendor(sandbox.url, VENDOR, events_url=self.gateway_url,
                         node_key=node_key(self.gateway_url, VENDOR), **knobs)

    def position(self, node_id: str, sku: str) -> tuple[int, int]:
        node = next(n for n in self.worker.store.availability(sku).nodes if n.node_id == node_id)
        return node.on_hand, node.reserved

    async def result(self, order_id: str) -> OrderView:
        handle = self.worker.temporal.get_workflow_handle(names.order_workflow_id(order_id), result_type=OrderView)
        view: OrderView = await handle.result()
        return view


@pytest.fixture
async def world(time_skipping_env: WorkflowEnvironment, worker_store: Store,
                sandbox: RunningSandbox) -> AsyncIterator[VendorWorld]:
    settings = worker_settings(sandbox)
    target = time_skipping_env.client.service_client.config.target_host
    with serving_gateway(worker_store, target, settings.task_queue) as gateway_url:
        async with running_worker(settings, client=time_skipping_env.client, store=worker_store):
            worker = RunningWorker(sdk=OmnirouteClient(time_skipping_env.client, task_queue=settings.task_queue),
                                   temporal=time_skipping_env.client, task_queue=settings.task_queue,
                                   store=worker_store, sandbox=sandbox, settings=settings)
            yield VendorWorld(worker=worker, env=time_skipping_env, gateway_url=gateway_url)


def _vendor_pos(w: VendorWorld, order_view: OrderView) -> list[dict[str, object]]:
    ours = {s.shipment_id for s in order_view.shipments}
    return [po for po in purchase_orders(w.worker.sandbox.url, VENDOR) if po["po"]["po_number"] in ours]


async def test_the_vendor_accepts_and_ships_and_the_stock_is_committed(world: VendorWorld) -> None:
    w = world
    w.vendor(answers=["ship"])
    w.worker.store.set_on_hand(VENDOR, "GRILL-1", 5, source="test")
    order = an_order(("GRILL-1", 2))
    await w.worker.sdk.place_order(order)

    shipped = await wait_for(w.worker, order.order_id,
                             lambda v: bool(v.shipments) and v.shipments[0].state is ShipmentState.SHIPPED)
    [shipment] = shipped.shipments
    assert shipment.node_id == VENDOR
    assert shipment.carrier == "UPS" and (shipment.tracking_number or "").startswith("VND")
    assert shipment.label_cost is None, "the vendor buys its own label"
    # The vendor notes a ship notice's answer once the gateway has answered it: after the view moved.
    [po] = await eventually(lambda: [p for p in _vendor_pos(w, shipped) if len(p["events"]) >= 2],
                            what="the vendor to note the gateway's answer to its ship notice")
    assert po["po"]["lines"] == [{"line_no": 1, "sku": "GRILL-1", "quantity": 2, "unit_cost": None}]
    assert po["po"]["ship_to"]["postal_code"] == "60601"
    assert [(e["type"], e["status"]) for e in po["events"]] == [("accepted", 202), ("shipped", 202)]
    assert w.position(VENDOR, "GRILL-1") == (3, 0), "shipped: committed out of on_hand"

    await w.worker.sdk.send_shipment_event(ShipmentEvent(shipment_id=shipment.shipment_id,
                                                         type=ShipmentEventType.DELIVERED, event_id="carrier-1"))
    final = await w.result(order.order_id)
    assert final.status is OrderStatus.COMPLETED
    email = str(order.customer.email)
    subjects = await eventually(lambda: [m["subject"] for m in w.worker.sandbox.messages(to=email)
                                         if "shipped" in m["subject"].lower()], what="the shipped e-mail")
    assert subjects


async def test_a_rejected_po_is_handed_back_and_shipped_from_a_dc(world: VendorWorld) -> None:
    w = world
    w.vendor(answers=["reject"], reject_reason="discontinued")
    add_node(w.worker.store, "dc-far", "90001")
    w.worker.store.set_on_hand(VENDOR, "GRILL-2", 5, source="test")
    w.worker.store.set_on_hand("dc-far", "GRILL-2", 5, source="test")
    order = an_order(("GRILL-2", 1))
    await w.worker.sdk.place_order(order)

    view = await wait_for(w.worker, order.order_id, lambda v: len(v.shipments) == 2 and any(
        s.node_id == "dc-far" and s.state is ShipmentState.RELEASED for s in v.shipments))
    first, second = view.shipments
    assert (first.node_id, first.state) == (VENDOR, ShipmentState.CANCELLED)
    assert w.position(VENDOR, "GRILL-2") == (5, 0), "the vendor's reservation is released"
    assert any("discontinued" in e for e in view.events)
    await warehouse_ships(w.worker, second.shipment_id)
    final = await w.result(order.order_id)
    assert final.status is OrderStatus.COMPLETED
    assert final.lines[0].quantity_cancelled == 0


async def test_a_silent_vendor_is_cancelled_at_its_accept_sla_and_the_order_re_sourced(world: VendorWorld) -> None:
    w = world
    w.vendor(accept_minutes=45, answers=["silent"])
    add_node(w.worker.store, "dc-far", "90001")
    w.worker.store.set_on_hand(VENDOR, "GRILL-3", 5, source="test")
    w.worker.store.set_on_hand("dc-far", "GRILL-3", 5, source="test")
    order = an_order(("GRILL-3", 1))
    await w.worker.sdk.place_order(order)
    released = await wait_for(w.worker, order.order_id, lambda v: bool(v.shipments) and all(
        s.state is ShipmentState.RELEASED for s in v.shipments))
    await eventually(lambda: _vendor_pos(w, released), what="the vendor to have the PO")

    await w.env.sleep(timedelta(minutes=44))
    still = await w.worker.sdk.get_order(order.order_id)
    assert [s.node_id for s in still.shipments] == [VENDOR], "inside the SLA the vendor keeps the shipment"
    await w.env.sleep(timedelta(minutes=2))

    view = await wait_for(w.worker, order.order_id, lambda v: len(v.shipments) == 2 and any(
        s.node_id == "dc-far" and s.state is ShipmentState.RELEASED for s in v.shipments))
    assert view.shipments[0].state is ShipmentState.CANCELLED
    assert any("no answer from vendor-grills within 45 min" in e for e in view.events)
    [po] = _vendor_pos(w, view)
    assert po["status"] == "cancelled", "the PO is cancelled at the vendor before the lines go elsewhere"
    await warehouse_ships(w.worker, view.shipments[1].shipment_id)
    assert (await w.result(order.order_id)).status is OrderStatus.COMPLETED


async def test_a_cancel_before_shipping_is_a_po_cancel_the_vendor_accepts(world: VendorWorld) -> None:
    w = world
    w.vendor(answers=["accept"])
    w.worker.store.set_on_hand(VENDOR, "GRILL-4", 5, source="test")
    order = an_order(("GRILL-4", 2))
    await w.worker.sdk.place_order(order)
    await wait_for(w.worker, order.order_id,
                   lambda v: bool(v.shipments) and v.shipments[0].state is ShipmentState.ACCEPTED)

    await w.worker.sdk.cancel_order(order.order_id, CancelOrder(reason="changed my mind"))
    final = await w.result(order.order_id)

    assert final.status is OrderStatus.CANCELLED
    assert final.shipments[0].state is ShipmentState.CANCELLED
    assert w.position(VENDOR, "GRILL-4") == (5, 0)
    [po] = _vendor_pos(w, final)
    assert po["status"] == "cancelled"
