"""A pull node's WMS through the HTTP gateway, on a real worker and Temporal dev server: it pages
through its released shipments (lines, the customer's address, the label's URL and format) and
acknowledges them, idempotently; a cancel after its ack shows as `cancel_requested` for it to answer.
Node keys see their own nodes only (another node's: 404), channel keys none (403), operators read."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from models import names
from models.keys import KeyCreate, Role
from models.order import CancelOrder, OrderStatus
from models.shipment import ShipmentState
from tests.fixtures.gateway import bearer, gateway_for
from tests.fixtures.network import add_node
from tests.fixtures.orders import an_order
from tests.fixtures.temporal import RunningWorker
from tests.fixtures.workflows import all_released, wait_for


@pytest.fixture
async def gateway(omniroute_worker: RunningWorker) -> AsyncIterator[httpx.AsyncClient]:
    async with gateway_for(omniroute_worker.store, omniroute_worker.sdk) as http:
        yield http


def _key(w: RunningWorker, role: Role, **scope: list[str]) -> dict[str, str]:
    created = w.store.create_key(KeyCreate(name=f"test {role.value}", role=role, **scope))
    return bearer(created.token)


async def _released_orders(w: RunningWorker, node: str, count: int) -> list[str]:
    shipment_ids = []
    for _ in range(count):
        order = an_order(("SKU-PULL", 1))
        await w.sdk.place_order(order)
        [shipment] = (await wait_for(w, order.order_id, all_released)).shipments
        shipment_ids.append(shipment.shipment_id)
    return shipment_ids


async def test_a_pull_node_pages_through_its_released_shipments_and_acknowledges_them(
        omniroute_worker: RunningWorker, gateway: httpx.AsyncClient) -> None:
    w = omniroute_worker
    node = f"dc-pull-{uuid.uuid4().hex[:6]}"
    add_node(w.store, node, "60106")
    w.store.set_on_hand(node, "SKU-PULL", 10, source="test")
    released = await _released_orders(w, node, 3)
    wms = _key(w, Role.NODE, nodes=[node])

    first = await gateway.get(f"/v1/nodes/{node}/shipments", params={"limit": 2}, headers=wms)
    assert first.status_code == 200, first.text
    page = first.json()
    rest = (await gateway.get(f"/v1/nodes/{node}/shipments", headers=wms,
                              params={"limit": 2, "cursor": page["next_cursor"]})).json()
    assert rest["next_cursor"] is None
    items = page["items"] + rest["items"]
    assert [item["shipment_id"] for item in items] == sorted(released)
    item = items[0]
    assert item["state"] == "released" and item["lines"][0]["sku"] == "SKU-PULL"
    assert item["ship_to"]["line1"] and item["ship_to"]["name"], "the WMS needs the customer's address"
    assert item["label_url"].startswith("https://") and item["label_format"] == "PNG"
    assert item["cancel_requested"] is False

    sid = released[0]
    acked = await gateway.post(f"/v1/nodes/{node}/shipments/{sid}/ack", headers=wms)
    again = await gateway.post(f"/v1/nodes/{node}/shipments/{sid}/ack", headers=wms)
    assert (acked.status_code, acked.json()["state"], acked.json()["replay"]) == (200, "accepted", False)
    assert (again.status_code, again.json()["state"], again.json()["replay"]) == (200, "accepted", True)
    await wait_for(w, names.order_id_of_shipment(sid), lambda v: v.shipments[0].state is ShipmentState.ACCEPTED)
    still = (await gateway.get(f"/v1/nodes/{node}/shipments", headers=wms)).json()["items"]
    assert sid not in [i["shipment_id"] for i in still], "an acknowledged shipment is no longer new work"
    picked = await gateway.post(f"/v1/shipments/{sid}/events", headers=wms, json={"type": "picked"})
    assert picked.status_code == 202
    late = await gateway.post(f"/v1/nodes/{node}/shipments/{sid}/ack", headers=wms)
    assert (late.status_code, late.json()["state"], late.json()["replay"]) == (200, "picked", True)


async def test_a_cancel_after_the_ack_is_for_the_pull_node_to_answer(
        omniroute_worker: RunningWorker, gateway: httpx.AsyncClient) -> None:
    w = omniroute_worker
    node = f"dc-pull-{uuid.uuid4().hex[:6]}"
    add_node(w.store, node, "60106")
    w.store.set_on_hand(node, "SKU-PULL", 10, source="test")
    acked, unacked = await _released_orders(w, node, 2)
    wms = _key(w, Role.NODE, nodes=[node])
    assert (await gateway.post(f"/v1/nodes/{node}/shipments/{acked}/ack", headers=wms)).status_code == 200
    await wait_for(w, names.order_id_of_shipment(acked), lambda v: v.shipments[0].state is ShipmentState.ACCEPTED)

    asked = await w.sdk.cancel_order(names.order_id_of_shipment(acked), CancelOrder(reason="customer asked"))
    at_once = await w.sdk.cancel_order(names.order_id_of_shipment(unacked), CancelOrder(reason="customer asked"))

    assert asked.requested_shipment_ids == [acked] and asked.cancelled_shipment_ids == []
    assert at_once.cancelled_shipment_ids == [unacked], "not acknowledged yet: cancelled without asking"
    late_ack = await gateway.post(f"/v1/nodes/{node}/shipments/{unacked}/ack", headers=wms)
    assert late_ack.status_code == 409
    listed = (await gateway.get(f"/v1/nodes/{node}/shipments", params={"cancel_requested": "true"},
                                headers=wms)).json()["items"]
    assert [(i["shipment_id"], i["state"], i["cancel_requested"]) for i in listed] == [(acked, "accepted", True)]
    answer = await gateway.post(f"/v1/shipments/{acked}/events", headers=wms,
                                json={"type": "cancelled", "event_id": f"{acked}:cancelled"})
    assert answer.status_code == 202, answer.text
    view = await wait_for(w, names.order_id_of_shipment(acked), lambda v: v.status is OrderStatus.CANCELLED)
    assert view.shipments[0].state is ShipmentState.CANCELLED


async def test_only_the_nodes_own_keys_and_operators_read_its_shipments(
        omniroute_worker: RunningWorker, gateway: httpx.AsyncClient) -> None:
    w = omniroute_worker
    node, other = f"dc-pull-{uuid.uuid4().hex[:6]}", f"dc-other-{uuid.uuid4().hex[:6]}"
    add_node(w.store, node, "60106")
    add_node(w.store, other, "08817")
    w.store.set_on_hand(node, "SKU-PULL", 10, source="test")
    [sid] = await _released_orders(w, node, 1)
    path = f"/v1/nodes/{node}/shipments"

    other_node = _key(w, Role.NODE, nodes=[other])
    assert (await gateway.get(path, headers=other_node)).status_code == 404
    assert (await gateway.post(f"{path}/{sid}/ack", headers=other_node)).status_code == 404
    assert (await gateway.post(f"/v1/nodes/{other}/shipments/{sid}/ack", headers=other_node)).status_code == 404
    channel = _key(w, Role.CHANNEL, channels=["web"])
    assert (await gateway.get(path, headers=channel)).status_code == 403
    assert (await gateway.post(f"{path}/{sid}/ack", headers=channel)).status_code == 403
    operator = _key(w, Role.OPERATOR)
    assert [i["shipment_id"] for i in (await gateway.get(path, headers=operator)).json()["items"]] == [sid]
    assert (await gateway.post(f"{path}/{sid}/ack", headers=operator)).status_code == 403
    bad = await gateway.get(path, params={"cursor": "not-a-cursor"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "cursor"]
    bad_state = await gateway.get(path, params={"state": "lost"})
    assert bad_state.status_code == 422 and bad_state.json()["detail"][0]["loc"] == ["query", "state"]
