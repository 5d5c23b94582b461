"""Rerouting through the gateway, against a real Temporal dev server and worker: an operator key moves
a shipment waiting for its release wave (its key id recorded as who did it), a channel key may not,
and the order's refusals are 409s naming why."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from models.keys import KeyCreate, Role
from tests.fixtures.gateway import gateway_for
from tests.fixtures.network import add_node
from tests.fixtures.orders import an_order
from tests.fixtures.temporal import RunningWorker
from tests.fixtures.waves import with_waves
from tests.fixtures.workflows import wait_for

TEE = "TEE-CREW-BLK"


@pytest.fixture
async def waiting(omniroute_worker: RunningWorker) -> tuple[str, str]:
    """An order from Chicago planned at the Illinois DC and held for its release wave: (order_id, shipment_id)."""
    w = omniroute_worker
    with_waves(w)
    for node_id, postal_code in (("dc-il", "60106"), ("dc-nj", "08817")):
        add_node(w.store, node_id, postal_code)
        w.store.set_on_hand(node_id, TEE, 5, source="test")
    order = an_order((TEE, 1))
    await w.sdk.place_order(order)
    view = await wait_for(w, order.order_id, lambda v: len(v.shipments) == 1)
    return order.order_id, view.shipments[0].shipment_id


def key_of(w: RunningWorker, role: Role, **scope: list[str]) -> tuple[str, str]:
    created = w.store.create_key(KeyCreate(name=f"test {role.value}", role=role, **scope))
    return created.key_id, created.token


@pytest.fixture
async def operator(omniroute_worker: RunningWorker) -> AsyncIterator[tuple[str, httpx.AsyncClient]]:
    key_id, token = key_of(omniroute_worker, Role.OPERATOR)
    async with gateway_for(omniroute_worker.store, omniroute_worker.sdk, token) as http:
        yield key_id, http


async def test_an_operator_key_reroutes_a_waiting_shipment_and_is_named_as_who_did_it(
        omniroute_worker: RunningWorker, waiting: tuple[str, str], operator: tuple[str, httpx.AsyncClient]) -> None:
    order_id, sid = waiting
    key_id, http = operator

    response = await http.post(f"/v1/orders/{order_id}/shipments/{sid}/reroute",
                               json={"node_id": "dc-nj", "reason": "Illinois is flooded"})

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["from_node_id"], body["to_node_id"], body["shipment"]["node_id"]) == ("dc-il", "dc-nj", "dc-nj")
    assert body["explanation"].startswith(f"{sid} rerouted from dc-il to dc-nj by {key_id} (Illinois is flooded): ")
    order = (await http.get(f"/v1/orders/{order_id}")).json()
    assert order["decision"]["amendments"] == [body["explanation"]]
    trail = (await http.get("/v1/audit", params={"kind": "order.reroute"})).json()["entries"]
    assert [(entry["subject"], entry["actor"], entry["detail"]["to_node_id"]) for entry in trail] == [
        (order_id, {"role": "operator", "id": key_id}, "dc-nj")]


async def test_a_channel_key_may_not_reroute(omniroute_worker: RunningWorker, waiting: tuple[str, str]) -> None:
    order_id, sid = waiting
    _, token = key_of(omniroute_worker, Role.CHANNEL, channels=["web"])
    async with gateway_for(omniroute_worker.store, omniroute_worker.sdk, token) as http:
        response = await http.post(f"/v1/orders/{order_id}/shipments/{sid}/reroute", json={"node_id": "dc-nj"})

    assert response.status_code == 403
    assert "needs a key with role operator or admin" in response.json()["detail"]
    assert (await omniroute_worker.sdk.get_order(order_id)).shipments[0].node_id == "dc-il"


async def test_a_refused_reroute_is_a_409_naming_why_and_an_unknown_order_a_404(
        waiting: tuple[str, str], operator: tuple[str, httpx.AsyncClient]) -> None:
    order_id, sid = waiting
    _, http = operator

    same = await http.post(f"/v1/orders/{order_id}/shipments/{sid}/reroute", json={"node_id": "dc-il"})
    nowhere = await http.post(f"/v1/orders/{order_id}/shipments/{sid}/reroute", json={"node_id": "dc-nowhere"})
    unknown = await http.post("/v1/orders/web-nosuchorder/shipments/web-nosuchorder-S1/reroute",
                              json={"node_id": "dc-nj"})

    assert (same.status_code, same.json()) == (409, {"detail": f"shipment {sid} already ships from dc-il"})
    assert nowhere.status_code == 409 and "unknown node 'dc-nowhere'" in nowhere.json()["detail"]
    assert (unknown.status_code, unknown.json()) == (404, {"detail": "unknown order 'web-nosuchorder'"})
