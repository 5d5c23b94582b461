"""Stores through the HTTP gateway, against a real Temporal dev server and a real Omniroute worker: a
pickup order names its store (and needs no ship-to), and a store's accepted work per day is held to its
daily capacity, which sourcing sees."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from models.keys import KeyCreate, Role
from models.order import PlaceOrder
from models.shipment import ShipmentEvent, ShipmentEventType
from omniroute.client import EventRejectedError
from tests.fixtures.eventually import eventually_reads
from tests.fixtures.gateway import field_locs, gateway_for
from tests.fixtures.stores import pickup_code
from tests.fixtures.temporal import RunningWorker

SKU = "LAMP-1"
Json = dict[str, Any]
CHICAGO = {"name": "Ada Buyer", "line1": "1 Main St", "city": "Chicago", "region": "IL", "postal_code": "60601"}


@pytest.fixture
async def http(omniroute_worker: RunningWorker) -> AsyncIterator[httpx.AsyncClient]:
    """A store in Chicago (pickup, no curbside, one accepted shipment a day) and a DC in New Jersey."""
    async with gateway_for(omniroute_worker.store, omniroute_worker.sdk) as client:
        store = {"name": "Chicago store", "kind": "store", "postal_code": "60614", "daily_capacity": 1,
                 "capabilities": ["ship", "pickup"],
                 "sla": {"business_hours": {"timezone": "America/Chicago", "days": {
                     day: {"opens": "00:00", "closes": "23:59"} for day in ("mon", "tue", "wed", "thu", "fri",
                                                                            "sat", "sun")}}}}
        assert (await client.put("/v1/nodes/store-chi", json=store)).status_code == 200, "store"
        dc = {"name": "New Jersey DC", "kind": "dc", "postal_code": "08817"}
        assert (await client.put("/v1/nodes/dc-nj", json=dc)).status_code == 200
        for node in ("store-chi", "dc-nj"):
            assert (await client.put(f"/v1/inventory/{node}/{SKU}", json={"on_hand": 10})).status_code == 200
        yield client


def an_order(**changes: Any) -> Json:
    body: Json = {
        "channel": "web", "channel_order_id": uuid.uuid4().hex[:12], "currency": "USD",
        "customer": {"email": f"buyer-{uuid.uuid4().hex[:8]}@example.com", "name": "Ada Buyer"},
        "ship_to": CHICAGO, "lines": [{"sku": SKU, "quantity": 1, "unit_price": 2999}],
    }
    return {key: value for key, value in (body | changes).items() if value is not None}


async def released_shipment(http: httpx.AsyncClient, order: Json) -> Json:
    accepted = await http.post("/v1/orders", json=order)
    assert accepted.status_code == 202, accepted.text

    async def read() -> Json:
        body: Json = (await http.get(f"/v1/orders/{accepted.json()['order_id']}")).json()
        return body
    view = await eventually_reads(read, lambda o: bool(o.get("shipments")) and all(
        s["state"] == "released" for s in o["shipments"]))
    shipment: Json = view["shipments"][0]
    return shipment


@pytest.mark.parametrize(("changes", "loc"), [
    ({"ship_to": None}, ["body"]),
    ({"ship_to": None, "pickup": {"node_id": "dc-nj"}}, ["body", "pickup", "node_id"]),
    ({"ship_to": None, "pickup": {"node_id": "store-nowhere"}}, ["body", "pickup", "node_id"]),
    ({"ship_to": None, "pickup": {"node_id": "store-chi", "curbside": True}}, ["body", "pickup", "curbside"]),
])
async def test_a_pickup_order_names_a_store_that_offers_it_and_only_it_may_leave_out_ship_to(
        http: httpx.AsyncClient, changes: Json, loc: list[str]) -> None:
    response = await http.post("/v1/orders", json=an_order(**changes))
    assert response.status_code == 422, response.text
    assert loc in field_locs(response)
    if loc == ["body"]:
        assert "ship_to" in response.text


async def test_a_pickup_order_without_a_ship_to_is_planned_at_its_store(http: httpx.AsyncClient) -> None:
    shipment = await released_shipment(http, an_order(ship_to=None, pickup={"node_id": "store-chi"}))
    assert shipment["node_id"] == "store-chi" and shipment["pickup"] is True


async def test_a_store_accepts_no_more_than_its_daily_capacity_and_sourcing_sees_it_full(
        http: httpx.AsyncClient) -> None:
    first = await released_shipment(http, an_order())
    second = await released_shipment(http, an_order())
    assert first["node_id"] == second["node_id"] == "store-chi", "planned before the store accepted anything"

    ok = await http.post(f"/v1/shipments/{first['shipment_id']}/events", json={"type": "accepted", "event_id": "a1"})
    assert ok.status_code == 202, ok.text
    again = await http.post(f"/v1/shipments/{first['shipment_id']}/events", json={"type": "accepted",
                                                                                   "event_id": "a1"})
    assert again.status_code == 202 and again.json()["replay"] is True, "a redelivery holds the same slot"
    full = await http.post(f"/v1/shipments/{second['shipment_id']}/events", json={"type": "accepted"})
    assert full.status_code == 409 and "daily_capacity" in full.text, full.text

    third = await released_shipment(http, an_order())
    assert third["node_id"] == "dc-nj", "sourcing plans no more work to a store whose day is full"


async def test_an_operator_unlocks_a_locked_pickup_and_is_audited(omniroute_worker: RunningWorker,
                                                                  http: httpx.AsyncClient) -> None:
    """Five wrong codes lock the pickup (409 saying so); a channel key may not unlock it, an operator key
    may (audited with its key id), after which the right code collects it."""
    w = omniroute_worker
    order = an_order(ship_to=None, pickup={"node_id": "store-chi"})
    shipment = await released_shipment(http, order)
    sid, order_id = shipment["shipment_id"], f"web-{order['channel_order_id']}"
    for step in ("accepted", "picked", "ready_for_pickup"):
        await w.sdk.send_shipment_event(ShipmentEvent(shipment_id=sid, type=ShipmentEventType(step)))
    code = await pickup_code(w, PlaceOrder.model_validate(order))
    wrong = "000000" if code != "000000" else "111111"
    unlock = f"/v1/orders/{order_id}/shipments/{sid}/unlock-pickup"
    assert (await http.post(unlock, json={"reason": "early"})).status_code == 409, "not locked yet"
    for n in range(5):
        with pytest.raises(EventRejectedError, match="pickup_code"):
            await w.sdk.send_shipment_event(ShipmentEvent(shipment_id=sid, type=ShipmentEventType.COLLECTED,
                                                          event_id=f"wrong-{n}", pickup_code=wrong))
    events = f"/v1/shipments/{sid}/events"
    locked = await http.post(events, json={"type": "collected", "pickup_code": code, "event_id": "right-1"})
    assert locked.status_code == 409 and "locked" in locked.text and "contact the store" in locked.text

    _, channel_token = _key(w, Role.CHANNEL, channels=["web"])
    async with gateway_for(w.store, w.sdk, channel_token) as as_channel:
        assert (await as_channel.post(unlock, json={})).status_code == 403
    assert (await http.post(f"/v1/orders/web-other/shipments/{sid}/unlock-pickup")).status_code == 404
    assert (await http.post(unlock, json={"reason": "x" * 501})).status_code == 422
    key_id, operator_token = _key(w, Role.OPERATOR)
    async with gateway_for(w.store, w.sdk, operator_token) as as_operator:
        response = await as_operator.post(unlock, json={"reason": "customer showed id"})
    assert response.status_code == 200, response.text
    assert response.json()["wrong_codes"] == 5
    trail = (await http.get("/v1/audit", params={"kind": "shipment.unlock_pickup"})).json()["entries"]
    assert [(e["subject"], e["actor"], e["order_id"], e["detail"]) for e in trail] == [
        (sid, {"role": "operator", "id": key_id}, order_id, {"wrong_codes": 5})]

    collected = await http.post(events, json={"type": "collected", "pickup_code": code, "event_id": "right-2"})
    assert collected.status_code in (200, 202), collected.text


def _key(w: RunningWorker, role: Role, **scope: list[str]) -> tuple[str, str]:
    created = w.store.create_key(KeyCreate(name=f"test {role.value}", role=role, **scope))
    return created.key_id, created.token
