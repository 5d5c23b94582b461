"""A DC's hand-off to its WMS, on a real Temporal dev server with the real workers and activities, a
SQLite ledger and the WMS sandbox over HTTP: a webhook node is sent a signed release that the sandbox
verifies with `standardwebhooks`; the release is retried while the WMS is down; a WMS that is gone has
the shipment handed back and re-sourced; a cancel asks the WMS, whose answer (yes, no, later) decides;
a shipped event that arrives before the cancel wins."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import httpx
import pytest

from integrations.sandbox import SandboxServer
from integrations.webhooks import sign_headers
from models.handoff import CANCEL_REQUESTED_MESSAGE, RELEASED_MESSAGE
from models.keys import KeyCreate, Role
from models.order import CancelOrder, OrderStatus, OrderView
from models.shipment import ShipmentEvent, ShipmentEventType, ShipmentState
from omniroute.client import CancelRejectedError
from omniroute.config.settings import dev_partner_secret
from tests.fixtures.eventually import eventually
from tests.fixtures.gateway import gateway_app
from tests.fixtures.network import add_node, add_webhook_node
from tests.fixtures.orders import an_order
from tests.fixtures.temporal import RunningWorker
from tests.fixtures.workflows import all_released, wait_for, warehouse_ships


def _node(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _event(shipment_id: str, kind: ShipmentEventType, **data: object) -> ShipmentEvent:
    return ShipmentEvent.model_validate({"shipment_id": shipment_id, "type": kind,
                                         "event_id": f"{shipment_id}-{kind.value}", **data})


async def _released_at_webhook_node(w: RunningWorker, *, cancel: str = "auto",
                                    sku: str = "SKU-WH") -> tuple[str, str, str]:
    """(order_id, shipment_id, node_id) of a one-line order released to a webhook DC."""
    node = _node("dc-wh")
    add_webhook_node(w.store, w.sandbox, node, "60106", cancel=cancel)
    w.store.set_on_hand(node, sku, 5, source="test")
    order = an_order((sku, 1))
    await w.sdk.place_order(order)
    [shipment] = (await wait_for(w, order.order_id, all_released)).shipments
    return order.order_id, shipment.shipment_id, node


async def test_a_webhook_dc_is_sent_a_signed_release_with_the_packing_list_ship_to_and_label(
        omniroute_worker: RunningWorker) -> None:
    w = omniroute_worker
    node = _node("dc-wh")
    add_webhook_node(w.store, w.sandbox, node, "60106")
    w.store.set_on_hand(node, "SKU-WH1", 5, source="test")
    order = an_order(("SKU-WH1", 2))
    await w.sdk.place_order(order)
    [shipment] = (await wait_for(w, order.order_id, all_released)).shipments

    [message] = w.sandbox.wms_messages(shipment_id=shipment.shipment_id)  # stored only once verified
    assert message["type"] == RELEASED_MESSAGE and message["node_id"] == node
    assert message["id"] == f"msg_{shipment.shipment_id}_shipment_released"
    data = message["data"]
    assert [(line["sku"], line["quantity"]) for line in data["lines"]] == [("SKU-WH1", 2)]
    assert data["ship_to"]["line1"] == order.ship_to.line1 and data["ship_to"]["name"] == order.ship_to.name
    assert data["label_url"] == shipment.label_url and data["label_url"].startswith("https://")
    assert data["label_format"] == shipment.label_format == "PNG"
    assert data["tracking_number"] == shipment.tracking_number and data["state"] == "released"
    record = w.store.get_shipment(shipment.shipment_id)
    assert record is not None and (record.label_url, record.label_format) == (shipment.label_url, "PNG")


def test_the_wms_sandbox_refuses_a_release_signed_with_another_secret(omniroute_worker: RunningWorker) -> None:
    w = omniroute_worker
    node = _node("dc-wh")
    w.sandbox.wms_node(node, secret=dev_partner_secret(f"wms-{node}"))
    body = b'{"type":"shipment.released","timestamp":"2026-12-05T00:00:00+00:00","data":{"shipment_id":"x-S1"}}'
    now = datetime.now(UTC)
    wrong = sign_headers(dev_partner_secret("someone-else"), "msg_x", body, at=now)
    right = sign_headers(dev_partner_secret(f"wms-{node}"), "msg_x", body, at=now)
    url = w.sandbox.wms_webhook_url(node)
    assert httpx.post(url, content=body, headers=wrong, timeout=5).status_code == 401
    assert httpx.post(url, content=body, headers=right, timeout=5).status_code == 200


async def test_a_release_is_retried_while_the_wms_is_down_then_delivered(omniroute_worker: RunningWorker) -> None:
    w = omniroute_worker
    node = _node("dc-down")
    add_webhook_node(w.store, w.sandbox, node, "60106")
    w.store.set_on_hand(node, "SKU-WD", 5, source="test")
    order = an_order(("SKU-WD", 1))
    with w.sandbox.faults("wms", status=503, count=2, path_suffix=f"/nodes/{node}/webhooks"):
        await w.sdk.place_order(order)
        pending = await w.sdk.get_order(order.order_id)
        await eventually(lambda: w.sandbox.faults_remaining("wms") == 0, "the WMS refused the first two attempts")
        view = await wait_for(w, order.order_id, all_released)
    [shipment] = view.shipments
    assert all(s.state is not ShipmentState.RELEASED for s in pending.shipments), "released only once delivered"
    [message] = w.sandbox.wms_messages(shipment_id=shipment.shipment_id)
    assert message["attempts"] == 1, "only the third attempt got through"
    history = await w.temporal.get_workflow_handle(f"shipment-{shipment.shipment_id}").fetch_history()
    attempts = [e.activity_task_started_event_attributes.attempt for e in history.events
                if e.HasField("activity_task_started_event_attributes")]
    assert 3 in attempts, attempts


async def test_a_wms_that_is_gone_gets_nothing_and_the_order_ships_from_another_node(
        omniroute_worker: RunningWorker) -> None:
    w = omniroute_worker
    node = _node("dc-gone")
    add_webhook_node(w.store, w.sandbox, node, "60106")
    add_node(w.store, "dc-far", "08817")
    w.store.set_on_hand(node, "SKU-WG", 3, source="test")
    w.store.set_on_hand("dc-far", "SKU-WG", 3, source="test")
    order = an_order(("SKU-WG", 1))
    with w.sandbox.faults("wms", status=410, count=1, path_suffix=f"/nodes/{node}/webhooks"):
        await w.sdk.place_order(order)
        view = await wait_for(w, order.order_id, lambda v: any(
            s.node_id == "dc-far" and s.state is ShipmentState.RELEASED for s in v.shipments))
    states = {s.node_id: s.state for s in view.shipments}
    assert states == {node: ShipmentState.CANCELLED, "dc-far": ShipmentState.RELEASED}
    assert any("did not take the shipment" in e for e in view.events), view.events
    gone = next(s for s in view.shipments if s.node_id == node)
    [label] = w.sandbox.labels(reference=gone.shipment_id)
    assert label["refunded"] is True


async def test_a_cancel_the_wms_accepts_cancels_the_shipment(omniroute_worker: RunningWorker) -> None:
    w = omniroute_worker
    order_id, sid, node = await _released_at_webhook_node(w, cancel="accept", sku="SKU-CY")
    await w.sdk.send_shipment_event(_event(sid, ShipmentEventType.PICKED))

    result = await w.sdk.cancel_order(order_id, CancelOrder(reason="customer changed their mind"))

    assert result.cancelled_shipment_ids == [sid]
    view = await wait_for(w, order_id, lambda v: v.status is OrderStatus.CANCELLED)
    assert view.shipments[0].state is ShipmentState.CANCELLED
    asked = [m for m in w.sandbox.wms_messages(shipment_id=sid) if m["type"] == CANCEL_REQUESTED_MESSAGE]
    assert len(asked) == 1 and asked[0]["data"]["cancel_requested"] is True
    [label] = w.sandbox.labels(reference=sid)
    assert label["refunded"] is True


async def test_a_cancel_the_wms_refuses_fails_once_it_ships_and_the_label_stays(
        omniroute_worker: RunningWorker) -> None:
    w = omniroute_worker
    order_id, sid, _node_id = await _released_at_webhook_node(w, cancel="refuse", sku="SKU-CN")
    await w.sdk.send_shipment_event(_event(sid, ShipmentEventType.PACKED))

    cancelling = asyncio.create_task(w.sdk.cancel_order(order_id, CancelOrder(reason="too late")))
    await eventually(lambda: any(m["type"] == CANCEL_REQUESTED_MESSAGE
                                 for m in w.sandbox.wms_messages(shipment_id=sid)), "the WMS is asked")
    await w.sdk.send_shipment_event(_event(sid, ShipmentEventType.SHIPPED))

    with pytest.raises(CancelRejectedError, match="shipped before the cancel reached the node"):
        await cancelling
    [label] = w.sandbox.labels(reference=sid)
    assert label["refunded"] is False, "the parcel travels on its label"
    await w.sdk.send_shipment_event(_event(sid, ShipmentEventType.DELIVERED))
    final = await w.temporal.get_workflow_handle(f"order-{order_id}", result_type=OrderView).result()
    assert final.status is OrderStatus.COMPLETED


async def test_a_cancel_the_wms_answers_later_is_settled_by_its_cancelled_event(
        omniroute_worker: RunningWorker) -> None:
    w = omniroute_worker
    order_id, sid, _node_id = await _released_at_webhook_node(w, cancel="later", sku="SKU-CL")

    asked = await w.sdk.cancel_order(order_id, CancelOrder(reason="wrong size"))

    assert asked.requested_shipment_ids == [sid] and asked.cancelled_shipment_ids == []
    view = await wait_for(w, order_id, lambda v: v.shipments[0].cancel_requested)
    assert view.shipments[0].state is ShipmentState.RELEASED
    await w.sdk.send_shipment_event(_event(sid, ShipmentEventType.CANCELLED))
    final = await w.temporal.get_workflow_handle(f"order-{order_id}", result_type=OrderView).result()
    assert final.status is OrderStatus.CANCELLED and final.shipments[0].state is ShipmentState.CANCELLED
    [label] = w.sandbox.labels(reference=sid)
    assert label["refunded"] is True


async def test_a_shipped_event_before_the_cancel_wins_and_the_cancel_fails_for_its_lines(
        omniroute_worker: RunningWorker) -> None:
    w = omniroute_worker
    order_id, sid, _node_id = await _released_at_webhook_node(w, cancel="accept", sku="SKU-SF")
    await warehouse_ships(w, sid, deliver=False)

    with pytest.raises(CancelRejectedError, match="shipped"):
        await w.sdk.cancel_order(order_id, CancelOrder(reason="changed my mind"))
    assert not any(m["type"] == CANCEL_REQUESTED_MESSAGE for m in w.sandbox.wms_messages(shipment_id=sid)), \
        "nothing to ask once it has shipped"
    [label] = w.sandbox.labels(reference=sid)
    assert label["refunded"] is False


async def test_the_wms_sandbox_works_a_released_shipment_through_the_gateway_with_its_node_key(
        omniroute_worker: RunningWorker) -> None:
    """The demo's webhook WMS: it answers the release at once and posts its events right after (a
    409 while the release is being recorded is retried), through a gateway over HTTP."""
    w = omniroute_worker
    node = _node("dc-wms")
    add_webhook_node(w.store, w.sandbox, node, "60106")
    key = w.store.create_key(KeyCreate(name="wms", role=Role.NODE, nodes=[node]))
    w.store.set_on_hand(node, "SKU-WW", 5, source="test")
    order = an_order(("SKU-WW", 1))
    with SandboxServer(gateway_app(w.store, w.sdk)) as gateway:
        w.sandbox.wms_node(node, secret=dev_partner_secret(f"wms-{node}"), work={
            "gateway_url": gateway.url, "api_key": key.token, "step_delay_s": 0,
            "steps": ["accepted", "picked", "packed", "shipped", "delivered"]})
        await w.sdk.place_order(order)
        final = await w.temporal.get_workflow_handle(f"order-{order.order_id}", result_type=OrderView).result()
    assert final.status is OrderStatus.COMPLETED
    assert final.shipments[0].state is ShipmentState.DELIVERED


async def test_a_cancel_while_the_release_is_retried_stops_it_and_asks_nobody(
        omniroute_worker: RunningWorker) -> None:
    w = omniroute_worker
    node = _node("dc-down")
    add_webhook_node(w.store, w.sandbox, node, "60106", cancel="refuse")
    w.store.set_on_hand(node, "SKU-WC", 5, source="test")
    order = an_order(("SKU-WC", 1))
    with w.sandbox.faults("wms", status=503, count=100, path_suffix=f"/nodes/{node}/webhooks"):
        await w.sdk.place_order(order)
        await eventually(lambda: w.sandbox.faults_remaining("wms") < 100, "a first attempt failed")

        result = await w.sdk.cancel_order(order.order_id, CancelOrder(reason="changed my mind"))

        final = await w.temporal.get_workflow_handle(f"order-{order.order_id}", result_type=OrderView).result()
    [shipment] = final.shipments
    assert result.cancelled_shipment_ids == [shipment.shipment_id]
    assert final.status is OrderStatus.CANCELLED and shipment.state is ShipmentState.CANCELLED
    assert w.sandbox.wms_messages(shipment_id=shipment.shipment_id) == [], "the WMS never had it, nor was asked"
    [label] = w.sandbox.labels(reference=shipment.shipment_id)
    assert label["refunded"] is True
