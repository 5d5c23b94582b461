"""A 3PL's fulfilment end to end on a real Temporal dev server: the order is placed at the ShipBob sandbox
over HTTP, the sandbox's signed webhooks reach a real gateway over HTTP, and the gateway moves the
shipment. Shipped (with ShipBob's tracking) → delivered; a cancel before it ships cancels at ShipBob; a
cancel after it shipped at ShipBob is refused there and the shipped webhook wins; a repeated delivery
moves nothing twice; ShipBob refusing the order hands the shipment back to be planned elsewhere."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from integrations.sandbox import SandboxServer
from integrations.threepl.sandbox import create_shipbob_sandbox
from models import names
from models.audit import AuditFilter
from models.network import NodeKind
from models.order import CancelOrder, OrderStatus, OrderView, PlaceOrder
from models.shipment import ShipmentState
from omniroute.client import CancelRejectedError, OmnirouteClient
from omniroute.config.settings import Settings
from store import Store
from tests.fixtures.eventually import eventually, eventually_reads
from tests.fixtures.gateway import gateway_app
from tests.fixtures.network import add_node
from tests.fixtures.orders import an_order
from tests.fixtures.sandbox import RunningSandbox
from tests.fixtures.temporal import worker_settings
from workers.main import running_worker

TOKEN = "shipbob-3pl-test"
NODE = "3pl-tn"


@dataclass
class ThreePLStack:
    sdk: OmnirouteClient
    temporal: Any
    store: Store
    shipbob: str
    mail: RunningSandbox

    def shipbob_order(self, shipment_id: str) -> dict[str, Any]:
        orders = httpx.get(f"{self.shipbob}/_sandbox/orders", timeout=5).json()
        return next(o for o in orders if o["reference_id"] == shipment_id)

    def control(self, path: str, **body: Any) -> Any:
        method = httpx.put if path.endswith("knobs") else httpx.post
        response = method(f"{self.shipbob}/_sandbox/{path}", json=body or None, timeout=30)
        response.raise_for_status()
        return response.json()

    def cancels(self) -> list[dict[str, Any]]:
        asked: list[dict[str, Any]] = httpx.get(f"{self.shipbob}/_sandbox/cancels", timeout=5).json()
        return asked

    def webhook_log(self) -> list[dict[str, Any]]:
        log: list[dict[str, Any]] = httpx.get(f"{self.shipbob}/_sandbox/webhooks", timeout=5).json()
        return log

    async def wait_for(self, order_id: str, until: Callable[[OrderView], bool]) -> OrderView:
        return await eventually_reads(lambda: self.sdk.get_order(order_id), until,
                                      show=lambda view: view.model_dump_json(indent=1))

    def position(self, sku: str) -> tuple[int, int]:
        node = next(n for n in self.store.availability(sku).nodes if n.node_id == NODE)
        return node.on_hand, node.reserved


@pytest.fixture
async def stack(temporal_env: WorkflowEnvironment, worker_store: Store,
                sandbox: RunningSandbox) -> AsyncIterator[ThreePLStack]:
    settings = worker_settings(sandbox, shipbob_api_key=TOKEN)
    sdk = OmnirouteClient(temporal_env.client, task_queue=settings.task_queue)
    gateway = gateway_app(worker_store, sdk)
    secret = Settings(environment="test").partner_secret(settings.shipbob_webhook_secret_ref)
    add_node(worker_store, NODE, "38118", kind=NodeKind.THREE_PL)
    with SandboxServer(gateway) as gateway_server, SandboxServer(create_shipbob_sandbox(
            TOKEN, webhook_secret=secret, webhook_url=f"{gateway_server.url}/webhooks/shipbob")) as shipbob:
        settings = settings.model_copy(update={"shipbob_base_url": shipbob.url})
        async with running_worker(settings, client=temporal_env.client, store=worker_store):
            yield ThreePLStack(sdk, temporal_env.client, worker_store, shipbob.url, sandbox)


async def placed(s: ThreePLStack, sku: str, quantity: int = 1) -> tuple[PlaceOrder, str]:
    """An order for `sku` at the 3PL, once its ShipBob order exists: (the order, its shipment id)."""
    s.store.set_on_hand(NODE, sku, 5, source="test")
    order = an_order((sku, quantity))
    await s.sdk.place_order(order)
    view = await s.wait_for(order.order_id,
                            lambda v: bool(v.shipments) and v.shipments[0].state is ShipmentState.RELEASED)
    return order, view.shipments[0].shipment_id


async def test_shipbob_ships_by_webhook_with_its_tracking_then_delivers_and_a_repeated_delivery_moves_nothing(
        stack: ThreePLStack) -> None:
    s = stack
    order, shipment_id = await placed(s, "SKU-3A", 2)
    order_id = order.order_id
    at_shipbob = s.shipbob_order(shipment_id)
    assert [(p["reference_id"], p["quantity"]) for p in at_shipbob["products"]] == [("SKU-3A", 2)]
    assert s.position("SKU-3A") == (5, 2)

    s.control("orders/knobs", duplicate=True)
    s.control(f"orders/{at_shipbob['id']}/ship")
    view = await s.wait_for(order_id, lambda v: v.shipments[0].state is ShipmentState.SHIPPED)
    tracking = s.shipbob_order(shipment_id)["shipments"][0]["tracking"]
    assert (view.shipments[0].carrier, view.shipments[0].tracking_number) == ("USPS", tracking["tracking_number"])
    assert view.shipments[0].label_cost is None, "ShipBob buys the label; we buy none"
    assert s.position("SKU-3A") == (3, 0), "stock is committed when it ships"
    shipped = await eventually(lambda: [e for e in s.webhook_log() if e["topic"] == "order.shipped"]
                               if len([e for e in s.webhook_log() if e["topic"] == "order.shipped"]) == 2 else None,
                               what="both deliveries of the duplicated order.shipped")
    assert [e["status"] for e in shipped] == [200, 200] and len({e["webhook_id"] for e in shipped}) == 1
    moves = [entry for entry in s.store.audit_entries(AuditFilter(subject=shipment_id))
             if entry.detail.get("type") == "shipped"]
    assert len(moves) == 1 and moves[0].actor.tag == "node:shipbob-webhook", "the repeat is a replay"
    await eventually(lambda: [m for m in s.mail.messages(to=str(order.customer.email))
                              if tracking["tracking_number"] in str(m)], what="the shipped e-mail with tracking")

    s.control("orders/knobs", duplicate=False)
    s.control(f"orders/{at_shipbob['id']}/deliver")
    final: OrderView = await s.temporal.get_workflow_handle(names.order_workflow_id(order_id),
                                                            result_type=OrderView).result()
    assert final.status is OrderStatus.COMPLETED and final.shipments[0].state is ShipmentState.DELIVERED


async def test_a_cancel_before_shipbob_ships_cancels_the_shipbob_order_and_releases_the_stock(
        stack: ThreePLStack) -> None:
    s = stack
    order, shipment_id = await placed(s, "SKU-3B")
    order_id = order.order_id

    result = await s.sdk.cancel_order(order_id, CancelOrder(reason="changed my mind"))

    assert result.cancelled_shipment_ids == [shipment_id]
    assert s.shipbob_order(shipment_id)["status"] == "Cancelled"
    final: OrderView = await s.temporal.get_workflow_handle(names.order_workflow_id(order_id),
                                                            result_type=OrderView).result()
    assert final.status is OrderStatus.CANCELLED
    assert s.position("SKU-3B") == (5, 0)


async def test_a_cancel_after_shipbob_shipped_is_refused_there_and_its_shipped_webhook_wins(
        stack: ThreePLStack) -> None:
    s = stack
    order, shipment_id = await placed(s, "SKU-3C")
    order_id = order.order_id
    s.control("orders/knobs", hold=True)  # shipped at ShipBob, its webhook still on its way
    s.control(f"orders/{s.shipbob_order(shipment_id)['id']}/ship")

    cancel = asyncio.create_task(s.sdk.cancel_order(order_id, CancelOrder(reason="too late")))
    shipbob_id = s.shipbob_order(shipment_id)["id"]
    [refusal] = await eventually(lambda: [c for c in s.cancels() if c["order_id"] == shipbob_id],
                                 what="ShipBob asked to cancel")
    assert refusal["is_success"] is False and "shipped" in refusal["reason"]
    assert not cancel.done(), "the order's cancel waits for the node's shipped event"
    await asyncio.to_thread(s.control, "webhooks/release")

    with pytest.raises(CancelRejectedError, match=shipment_id):
        await cancel
    view = await s.wait_for(order_id, lambda v: v.shipments[0].state is ShipmentState.SHIPPED)
    assert s.shipbob_order(shipment_id)["status"] == "Fulfilled"
    assert view.shipments[0].tracking_number is not None
    assert s.position("SKU-3C") == (4, 0), "the unit that left is off the books"


async def test_shipbob_refusing_the_order_hands_the_shipment_back_to_be_planned_elsewhere(
        stack: ThreePLStack) -> None:
    s = stack
    add_node(s.store, "dc-far", "90001")
    s.store.set_on_hand("dc-far", "SKU-3D", 5, source="test")
    s.store.set_on_hand(NODE, "SKU-3D", 5, source="test")
    order = an_order(("SKU-3D", 1))
    s.control("faults", status=422, count=1, path_suffix="/order")
    await s.sdk.place_order(order)

    view = await s.wait_for(order.order_id, lambda v: len(v.shipments) == 2)
    first, second = view.shipments
    assert (first.node_id, first.state) == (NODE, ShipmentState.CANCELLED)
    assert second.node_id == "dc-far"
    assert s.position("SKU-3D") == (5, 0)
