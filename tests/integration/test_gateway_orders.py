"""Orders, shipments and returns through the HTTP gateway, against a real Temporal dev server and a real
Omniroute worker (its own task queue, SQLite store and provider sandboxes).

Shipment events go to the shipment's fulfilment workflow (issue 11): the tests that send them pass
once the order starts one per released shipment."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from tests.fixtures.eventually import eventually_reads
from tests.fixtures.gateway import gateway_for
from tests.fixtures.temporal import RunningWorker

SKU = "MUG-1"
Json = dict[str, Any]


@pytest.fixture
async def http(omniroute_worker: RunningWorker) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway on the worker's store and task queue, with one DC near Chicago holding 10 mugs."""
    async with gateway_for(omniroute_worker.store, omniroute_worker.sdk) as client:
        node = {"name": "Illinois DC", "kind": "dc", "postal_code": "60106"}
        assert (await client.put("/v1/nodes/dc-il", json=node)).status_code == 200
        assert (await client.put(f"/v1/inventory/dc-il/{SKU}", json={"on_hand": 10})).status_code == 200
        yield client


def an_order(quantity: int = 2) -> Json:
    return {
        "channel": "web", "channel_order_id": uuid.uuid4().hex[:12], "currency": "USD",
        "customer": {"email": f"buyer-{uuid.uuid4().hex[:8]}@example.com", "name": "Ada Buyer"},
        "ship_to": {"name": "Ada Buyer", "line1": "1 Main St", "city": "Chicago", "region": "IL",
                    "postal_code": "60601"},
        "lines": [{"sku": SKU, "quantity": quantity, "unit_price": 1999}],
    }


async def poll(http: httpx.AsyncClient, path: str, until: Callable[[Json], bool], timeout: float = 30.0) -> Json:
    """GET `path` (which must answer 200) until its JSON satisfies `until`."""

    async def read() -> Json:
        response = await http.get(path)
        assert response.status_code == 200, response.text
        body: Json = response.json()
        return body

    return await eventually_reads(read, until, f"GET {path} to answer what the test awaits", timeout)


def shipment_in(state: str) -> Callable[[Json], bool]:
    return lambda order: bool(order["shipments"]) and all(s["state"] == state for s in order["shipments"])


async def released_order(http: httpx.AsyncClient) -> tuple[str, str]:
    """Place an order and wait until its one shipment is released: (order_id, shipment_id)."""
    accepted = await http.post("/v1/orders", json=an_order())
    assert accepted.status_code == 202, accepted.text
    order_id = accepted.json()["order_id"]
    order = await poll(http, f"/v1/orders/{order_id}", shipment_in("released"))
    return order_id, order["shipments"][0]["shipment_id"]


async def event(http: httpx.AsyncClient, shipment_id: str, kind: str, event_id: str | None = None) -> httpx.Response:
    body = {"type": kind} if event_id is None else {"type": kind, "event_id": event_id}
    return await http.post(f"/v1/shipments/{shipment_id}/events", json=body)


def a_return_of(order_id: str) -> Json:
    return {"rma": f"RMA-{uuid.uuid4().hex[:10]}", "order_id": order_id, "lines": [{"sku": SKU, "quantity": 1}]}


async def delivered_order(http: httpx.AsyncClient) -> str:
    order_id, shipment_id = await released_order(http)
    for kind in ("picked", "packed", "shipped", "delivered"):
        assert (await event(http, shipment_id, kind, f"{shipment_id}-{kind}")).status_code == 202
    await poll(http, f"/v1/orders/{order_id}", lambda order: order["status"] == "completed")
    return order_id


async def test_the_same_order_posted_twice_is_one_workflow(http: httpx.AsyncClient) -> None:
    order = an_order()

    first = await http.post("/v1/orders", json=order)
    second = await http.post("/v1/orders", json=order)

    assert (first.status_code, second.status_code) == (202, 200)
    assert first.json()["created"] is True and second.json()["created"] is False
    assert second.json()["workflow_id"] == first.json()["workflow_id"]
    assert first.json()["order_id"] == f"web-{order['channel_order_id']}"


async def test_an_order_posted_over_http_reaches_delivery_by_warehouse_events(http: httpx.AsyncClient) -> None:
    order_id, shipment_id = await released_order(http)

    for kind in ("picked", "packed", "shipped", "delivered"):
        response = await event(http, shipment_id, kind)
        assert response.status_code == 202, response.text
        assert (response.json()["to_state"], response.json()["signalled"], response.json()["replay"]) == (
            kind, True, False)
        await poll(http, f"/v1/orders/{order_id}", shipment_in(kind))

    order = await poll(http, f"/v1/orders/{order_id}", lambda order: order["status"] == "completed")
    assert order["lines"][0]["status"] == "delivered"
    [node] = (await http.get("/v1/availability", params={"sku": SKU})).json()["nodes"]
    assert (node["on_hand"], node["reserved"]) == (8, 0)


async def test_an_event_that_cannot_apply_is_a_409_naming_the_current_state(http: httpx.AsyncClient) -> None:
    order_id, shipment_id = await released_order(http)
    assert (await event(http, shipment_id, "shipped")).status_code == 202
    await poll(http, f"/v1/orders/{order_id}", shipment_in("shipped"))

    response = await event(http, shipment_id, "packed")

    assert response.status_code == 409
    assert shipment_id in response.json()["detail"] and "shipped" in response.json()["detail"]


async def test_a_redelivered_event_with_its_event_id_is_accepted_once(http: httpx.AsyncClient) -> None:
    order_id, shipment_id = await released_order(http)
    assert (await event(http, shipment_id, "picked", "wms-1")).json()["signalled"] is True
    await poll(http, f"/v1/orders/{order_id}", shipment_in("picked"))

    again = await event(http, shipment_id, "picked", "wms-1")
    anonymous = await event(http, shipment_id, "picked")

    assert (again.status_code, again.json()["signalled"], again.json()["replay"]) == (202, False, True)
    assert anonymous.status_code == 409
    assert anonymous.json()["detail"] == f"shipment {shipment_id} is picked; cannot apply picked"


async def test_an_unknown_shipment_is_a_404(http: httpx.AsyncClient) -> None:
    response = await event(http, f"web-{uuid.uuid4().hex[:12]}-S1", "picked")

    assert response.status_code == 404
    assert "shipment_id" in response.json()["detail"]


async def test_a_bad_event_type_is_a_422_naming_type(http: httpx.AsyncClient) -> None:
    response = await event(http, "web-1-S1", "teleported")

    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["detail"]] == [["body", "type"]]


async def test_cancel_with_no_body_cancels_everything_and_a_second_cancel_is_a_409(http: httpx.AsyncClient) -> None:
    order_id, shipment_id = await released_order(http)

    cancelled = await http.post(f"/v1/orders/{order_id}/cancel")
    again = await http.post(f"/v1/orders/{order_id}/cancel", json={"reason": "changed my mind"})

    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json() == {"cancelled_line_nos": [1], "cancelled_shipment_ids": [shipment_id],
                                "requested_shipment_ids": [], "status": "cancelled"}
    # The validator says "already cancelled" while the workflow winds down, the SDK "has finished" after.
    assert again.status_code == 409
    assert "already cancelled" in again.json()["detail"] or "has finished" in again.json()["detail"]
    [node] = (await http.get("/v1/availability", params={"sku": SKU})).json()["nodes"]
    assert (node["atp"], node["reserved"]) == (10, 0)


async def test_cancelling_a_shipped_line_is_a_409_with_the_workflows_reason(http: httpx.AsyncClient) -> None:
    order_id, shipment_id = await released_order(http)
    assert (await event(http, shipment_id, "shipped")).status_code == 202
    await poll(http, f"/v1/orders/{order_id}", shipment_in("shipped"))

    response = await http.post(f"/v1/orders/{order_id}/cancel", json={"line_nos": [1]})

    assert response.status_code == 409
    assert "line 1 has already shipped" in response.json()["detail"]


async def test_an_unknown_order_is_a_404_for_status_and_cancel(http: httpx.AsyncClient) -> None:
    order_id = f"web-{uuid.uuid4().hex[:12]}"

    status = await http.get(f"/v1/orders/{order_id}")
    cancel = await http.post(f"/v1/orders/{order_id}/cancel")

    assert (status.status_code, cancel.status_code) == (404, 404)
    assert order_id in status.json()["detail"]


async def test_a_return_over_http_is_received_and_restocks_the_node(http: httpx.AsyncClient) -> None:
    order_id = await delivered_order(http)
    rma = a_return_of(order_id)

    first = await http.post("/v1/returns", json=rma)
    second = await http.post("/v1/returns", json=rma)
    assert (first.status_code, second.status_code) == (202, 200), first.text
    assert second.json() == {**first.json(), "created": False}
    path = f"/v1/returns/{rma['rma']}"
    awaiting = await poll(http, path, lambda view: view["status"] in ("awaiting_receipt", "rejected"))
    assert awaiting["status"] == "awaiting_receipt", awaiting

    received = await http.post(f"{path}/events", json={"type": "received", "event_id": "dock-7"})
    assert (received.status_code, received.json()["signalled"]) == (202, True), received.text
    assert (received.json()["status"], received.json()["to_status"]) == ("awaiting_receipt", "received")
    done = await poll(http, path, lambda view: view["status"] == "completed")

    assert done["refund"] == {"amount": 1999, "currency": "USD"}
    [node] = (await http.get("/v1/availability", params={"sku": SKU})).json()["nodes"]
    assert node["on_hand"] == 9
    redelivered = await http.post(f"{path}/events", json={"type": "received", "event_id": "dock-7"})
    anonymous = await http.post(f"{path}/events", json={"type": "received"})
    assert (redelivered.status_code, redelivered.json()["signalled"], redelivered.json()["replay"]) == (
        202, False, True)
    assert anonymous.status_code == 409 and "already received" in anonymous.json()["detail"]


async def test_a_return_event_at_an_unknown_node_is_a_422_naming_node_id(http: httpx.AsyncClient) -> None:
    rma = a_return_of("web-never-placed")
    assert (await http.post("/v1/returns", json=rma)).status_code == 202

    response = await http.post(f"/v1/returns/{rma['rma']}/events", json={"type": "received", "node_id": "dc-mars"})

    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["detail"]] == [["body", "node_id"]]


async def test_a_rejected_return_takes_no_events(http: httpx.AsyncClient) -> None:
    rma = a_return_of("web-never-placed")
    await http.post("/v1/returns", json=rma)
    view = await poll(http, f"/v1/returns/{rma['rma']}", lambda view: view["status"] == "rejected")

    response = await http.post(f"/v1/returns/{rma['rma']}/events", json={"type": "received"})

    assert "unknown order" in view["rejection"]
    assert response.status_code == 409 and "rejected" in response.json()["detail"]


async def test_an_unknown_return_is_a_404(http: httpx.AsyncClient) -> None:
    rma = f"RMA-{uuid.uuid4().hex[:10]}"

    status = await http.get(f"/v1/returns/{rma}")
    received = await http.post(f"/v1/returns/{rma}/events", json={"type": "received"})

    assert (status.status_code, received.status_code) == (404, 404)
    assert rma in status.json()["detail"]
