"""Journeys that cross node kinds, driven only through the HTTP gateway: a real worker on Temporal (the
dev server; the time-skipping test server where an SLA timer must run out), a real SQLite ledger and
the partner sandboxes (carrier, mail, WMS, dropship vendor). Nodes, stock, keys and orders are put
through the API, nodes answer with their own node keys, and what happened is read back through the
order's view and ATP.

- a store rejects its ship-from-store shipment: handed back, planned at a DC, the reservations follow;
- a split order where one DC short picks: the shortfall is written off and shipped from another DC;
- a dropship vendor silent past its accept SLA: its PO is cancelled and the lines shipped by a DC;
- a cancel racing a `shipped` event at a webhook DC: the shipment wins, the cancel is a 409.

A 3PL (ShipBob) shipment shipped and delivered by signed webhooks to a real gateway runs in
tests/workflow/test_threepl_fulfilment.py; it is not repeated here."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from models.handoff import CANCEL_REQUESTED_MESSAGE
from omniroute.client import OmnirouteClient
from omniroute.config.settings import dev_partner_secret
from store import Store, upgrade_database
from tests.fixtures.dropship import VENDOR_PROVIDER, configure_vendor, purchase_orders, serving_gateway, vendor_url
from tests.fixtures.eventually import eventually, eventually_reads
from tests.fixtures.gateway import ADMIN_TOKEN, bearer, gateway_for
from tests.fixtures.sandbox import RunningSandbox
from tests.fixtures.temporal import worker_settings
from workers.main import running_worker

Json = dict[str, Any]
CHICAGO = {"name": "Ada Buyer", "line1": "1 Main St", "city": "Chicago", "region": "IL", "postal_code": "60601"}


def _suffix() -> str:
    return uuid.uuid4().hex[:6]


@dataclass
class Gateway:
    """The gateway as its clients see it (admin key by default), and the sandboxes behind the worker."""

    http: httpx.AsyncClient
    sandbox: RunningSandbox

    async def put_node(self, node_id: str, **body: Any) -> None:
        response = await self.http.put(f"/v1/nodes/{node_id}", json={"name": node_id.upper(), **body})
        assert response.status_code == 200, response.text

    async def stock(self, node_id: str, sku: str, on_hand: int) -> None:
        response = await self.http.put(f"/v1/inventory/{node_id}/{sku}", json={"on_hand": on_hand})
        assert response.status_code == 200, response.text

    async def node_key(self, node_id: str) -> dict[str, str]:
        response = await self.http.post("/v1/keys", json={"name": f"wms {node_id}", "role": "node",
                                                          "nodes": [node_id]})
        assert response.status_code == 201, response.text
        return bearer(response.json()["token"])

    async def place(self, *lines: tuple[str, int]) -> str:
        body = {"channel": "web", "channel_order_id": uuid.uuid4().hex[:12], "currency": "USD",
                "customer": {"email": f"buyer-{_suffix()}@example.com", "name": "Ada Buyer"}, "ship_to": CHICAGO,
                "lines": [{"sku": sku, "quantity": quantity, "unit_price": 2999} for sku, quantity in lines]}
        response = await self.http.post("/v1/orders", json=body)
        assert response.status_code == 202, response.text
        return str(response.json()["order_id"])

    async def view(self, order_id: str) -> Json:
        response = await self.http.get(f"/v1/orders/{order_id}")
        assert response.status_code == 200, response.text
        body: Json = response.json()
        return body

    async def wait_for(self, order_id: str, until: Any, what: str, timeout: float = 30.0) -> Json:
        return await eventually_reads(lambda: self.view(order_id), until, what, timeout=timeout)

    async def position(self, node_id: str, sku: str) -> tuple[int, int, int]:
        """(on_hand, reserved, atp) of `sku` at `node_id`, as GET /v1/availability answers."""
        response = await self.http.get("/v1/availability", params={"sku": sku})
        assert response.status_code == 200, response.text
        [node] = [n for n in response.json()["nodes"] if n["node_id"] == node_id]
        return node["on_hand"], node["reserved"], node["atp"]

    async def event(self, shipment_id: str, key: dict[str, str], kind: str, **data: Any) -> httpx.Response:
        return await self.http.post(f"/v1/shipments/{shipment_id}/events", headers=key,
                                    json={"type": kind, "event_id": f"{shipment_id}:{kind}", **data})

    async def node_ships(self, shipment_id: str, key: dict[str, str], *steps: str) -> None:
        for step in steps or ("picked", "packed", "shipped", "delivered"):
            response = await self.event(shipment_id, key, step)
            assert response.status_code == 202, (step, response.text)


def released(view: Json) -> bool:
    return bool(view["shipments"]) and all(s["state"] == "released" for s in view["shipments"])


def cancel_asked(sandbox: RunningSandbox, shipment_id: str) -> bool:
    return any(m["type"] == CANCEL_REQUESTED_MESSAGE for m in sandbox.wms_messages(shipment_id=shipment_id))


def lines_of(shipment: Json) -> list[tuple[str, int]]:
    return [(line["sku"], line["quantity"]) for line in shipment["lines"]]


@pytest.fixture(scope="module")
def journey_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    url = f"sqlite:///{Path(tmp_path_factory.mktemp('journeys')) / 'omniroute-app.db'}"
    upgrade_database(url)
    store = Store.connect(url)
    try:
        yield store
    finally:
        store.dispose()


@pytest.fixture(scope="module")
async def gateway(temporal_env: WorkflowEnvironment, journey_store: Store,
                  sandbox: RunningSandbox) -> AsyncIterator[Gateway]:
    """One worker on the dev server and one in-process gateway for the module; each test uses nodes
    and SKUs of its own."""
    settings = worker_settings(sandbox)
    async with running_worker(settings, client=temporal_env.client, store=journey_store):
        sdk = OmnirouteClient(temporal_env.client, task_queue=settings.task_queue)
        async with gateway_for(journey_store, sdk) as http:
            yield Gateway(http, sandbox)


async def test_a_store_that_rejects_its_shipment_hands_it_back_and_a_dc_ships_it(gateway: Gateway) -> None:
    g, tag = gateway, _suffix()
    store, dc, sku = f"store-{tag}", f"dc-{tag}", f"LAMP-{tag}"
    await g.put_node(store, kind="store", postal_code="60614", capabilities=["ship", "pickup"])
    await g.put_node(dc, kind="dc", postal_code="08817")
    for node in (store, dc):
        await g.stock(node, sku, 3)
    order_id = await g.place((sku, 2))
    [first] = (await g.wait_for(order_id, released, "the store's shipment released"))["shipments"]
    assert first["node_id"] == store and first["pickup"] is False
    assert await g.position(store, sku) == (3, 2, 1)

    rejected = await g.event(first["shipment_id"], await g.node_key(store), "rejected", reason="no staff today")
    assert rejected.status_code == 202, rejected.text

    view = await g.wait_for(order_id, lambda v: len(v["shipments"]) == 2 and v["shipments"][1]["state"] == "released",
                            "the lines planned again at the DC")
    handed_back, again = view["shipments"]
    assert (handed_back["node_id"], handed_back["state"]) == (store, "cancelled")
    assert (again["node_id"], lines_of(again)) == (dc, [(sku, 2)])
    assert any(f"{store} handed back" in e and "no staff today" in e for e in view["events"]), view["events"]
    assert await g.position(store, sku) == (3, 0, 3), "the store's reservation is released"
    assert await g.position(dc, sku) == (3, 2, 1), "the DC's is taken"
    assert g.sandbox.labels(reference=first["shipment_id"]) == [], "the store never accepted: no label"

    await g.node_ships(again["shipment_id"], await g.node_key(dc))
    done = await g.wait_for(order_id, lambda v: v["status"] == "completed", "the order completed")
    assert done["lines"][0]["quantity_cancelled"] == 0
    assert await g.position(dc, sku) == (1, 0, 1)


async def test_a_short_pick_in_a_split_order_is_written_off_and_shipped_from_another_node(gateway: Gateway) -> None:
    g, tag = gateway, _suffix()
    near, east, west = f"dc-il-{tag}", f"dc-nj-{tag}", f"dc-ca-{tag}"
    lamp, shade = f"LAMP-{tag}", f"SHADE-{tag}"
    await g.put_node(near, kind="dc", postal_code="60106")
    await g.put_node(east, kind="dc", postal_code="08817")
    await g.put_node(west, kind="dc", postal_code="90001")
    await g.stock(near, lamp, 5)
    await g.stock(west, lamp, 5)
    await g.stock(east, shade, 4)
    order_id = await g.place((lamp, 3), (shade, 1))
    view = await g.wait_for(order_id, released, "the split order released")
    planned = {s["node_id"]: s for s in view["shipments"]}
    assert {node: lines_of(s) for node, s in planned.items()} == {near: [(lamp, 3)], east: [(shade, 1)]}
    near_key = await g.node_key(near)

    short = await g.event(planned[near]["shipment_id"], near_key, "short_picked",
                          lines=[{"sku": lamp, "quantity_picked": 1}])
    assert short.status_code == 202, short.text

    view = await g.wait_for(order_id, lambda v: len(v["shipments"]) == 3 and v["shipments"][2]["state"] == "released",
                            "the shortfall planned again and released")
    by_node = {s["node_id"]: s for s in view["shipments"]}
    assert lines_of(by_node[near]) == [(lamp, 1)], "the short node keeps what it found"
    assert lines_of(by_node[west]) == [(lamp, 2)] and by_node[west]["state"] == "released"
    assert await g.position(near, lamp) == (3, 1, 2), "the 2 units nobody found leave on_hand; ATP stays true"
    assert await g.position(west, lamp) == (5, 2, 3)
    lamp_atp = (await g.http.get("/v1/availability", params={"sku": lamp})).json()["total_atp"]
    assert lamp_atp == 5, "ATP counts only units that exist and are not promised"
    timeline = (await g.http.get(f"/v1/orders/{order_id}/timeline")).json()
    written_off = [e["summary"] for e in timeline["events"] if e["kind"] == "write_off"]
    assert len(written_off) == 1 and written_off[0].startswith(
        f"short pick: 2 × {lamp} at {near} not found, 2 written off"), timeline["events"]

    await g.node_ships(by_node[near]["shipment_id"], near_key, "packed", "shipped", "delivered")
    await g.node_ships(by_node[east]["shipment_id"], await g.node_key(east))
    partly = await g.view(order_id)
    assert partly["status"] != "completed", "one shipment is still out"
    await g.node_ships(by_node[west]["shipment_id"], await g.node_key(west))

    done = await g.wait_for(order_id, lambda v: v["status"] == "completed", "the order completed")
    assert sorted(lines_of(s)[0] for s in done["shipments"]) == sorted([(lamp, 1), (lamp, 2), (shade, 1)])
    assert [line["quantity_cancelled"] for line in done["lines"]] == [0, 0]
    assert await g.position(near, lamp) == (2, 0, 2)
    assert await g.position(west, lamp) == (3, 0, 3)
    assert await g.position(east, shade) == (3, 0, 3)


async def test_a_shipped_event_racing_a_cancel_at_a_webhook_dc_wins_and_the_cancel_is_a_409(
        gateway: Gateway) -> None:
    """The WMS refuses a cancel of what it ships, so whichever reaches the order first, the shipment
    wins: the event is applied, the cancel is a 409 naming the lines and the shipment, the label stays
    valid and the shipped units stay off the books. Tried with the cancel sent first, together, and after."""
    g, tag = gateway, _suffix()
    dc, sku = f"dc-wh-{tag}", f"KETTLE-{tag}"
    secret_ref = f"wms-{dc}"
    g.sandbox.wms_node(dc, secret=dev_partner_secret(secret_ref), cancel="refuse")
    await g.put_node(dc, kind="dc", postal_code="60106",
                     hand_off={"kind": "webhook", "url": g.sandbox.wms_webhook_url(dc), "secret_ref": secret_ref})
    await g.stock(dc, sku, 10)
    key = await g.node_key(dc)

    for lead in ("cancel", "together", "shipped"):
        order_id = await g.place((sku, 2))
        [shipment] = (await g.wait_for(order_id, released, "released to the WMS"))["shipments"]
        sid = shipment["shipment_id"]
        await g.node_ships(sid, key, "picked", "packed")
        on_hand_before = (await g.position(dc, sku))[0]

        async def cancel(order_id: str = order_id) -> httpx.Response:
            return await g.http.post(f"/v1/orders/{order_id}/cancel", json={"reason": "changed my mind"})

        async def ship(sid: str = sid) -> httpx.Response:
            return await g.event(sid, key, "shipped")

        if lead == "together":
            cancelled, shipped = await asyncio.gather(cancel(), ship())
        elif lead == "cancel":
            cancelling = asyncio.create_task(cancel())
            await eventually(partial(cancel_asked, g.sandbox, sid), "the WMS asked to cancel")
            shipped, cancelled = await ship(), await cancelling
        else:
            shipped = await ship()
            cancelled = await cancel()

        assert shipped.status_code == 202 and shipped.json()["to_state"] == "shipped", (lead, shipped.text)
        assert cancelled.status_code == 409, (lead, cancelled.text)
        refusal = cancelled.json()["detail"]
        assert "line_nos: [1]" in refusal and "shipped" in refusal and sid in refusal, (lead, refusal)
        view = await g.view(order_id)
        assert view["shipments"][0]["state"] == "shipped" and view["status"] != "cancelled", lead
        assert view["lines"][0]["quantity_cancelled"] == 0, lead
        [label] = g.sandbox.labels(reference=sid)
        assert label["refunded"] is False, "a parcel on its way keeps its label"
        assert await g.position(dc, sku) == (on_hand_before - 2, 0, on_hand_before - 2), \
            "the shipped units are not put back on hand"

        delivered = await g.event(sid, key, "delivered")
        assert delivered.status_code == 202, delivered.text
        await g.wait_for(order_id, lambda v: v["status"] == "completed", "the order completed")
    assert await g.position(dc, sku) == (4, 0, 4)


@pytest.fixture(scope="module")
async def skipping_gateway(time_skipping_env: WorkflowEnvironment, tmp_path_factory: pytest.TempPathFactory,
                           sandbox: RunningSandbox) -> AsyncIterator[tuple[Gateway, str]]:
    """A worker on the time-skipping test server and a gateway served on a free port (the vendor
    sandbox answers through it): (the gateway, its URL)."""
    url = f"sqlite:///{Path(tmp_path_factory.mktemp('journeys-ts')) / 'omniroute-app.db'}"
    upgrade_database(url)
    store = Store.connect(url)
    settings = worker_settings(sandbox)
    target = time_skipping_env.client.service_client.config.target_host
    try:
        with serving_gateway(store, target, settings.task_queue) as gateway_url:
            async with running_worker(settings, client=time_skipping_env.client, store=store), \
                    httpx.AsyncClient(base_url=gateway_url, headers=bearer(ADMIN_TOKEN), timeout=30) as http:
                yield Gateway(http, sandbox), gateway_url
    finally:
        store.dispose()


async def test_a_vendor_silent_past_its_accept_sla_has_its_po_cancelled_and_a_dc_ships_the_lines(
        skipping_gateway: tuple[Gateway, str], time_skipping_env: WorkflowEnvironment) -> None:
    (g, gateway_url), tag = skipping_gateway, _suffix()
    vendor, dc, sku = f"vendor-{tag}", f"dc-far-{tag}", f"GRILL-{tag}"
    await g.put_node(vendor, kind="dropship", postal_code="60106", sla={"accept_minutes": 45},
                     provider={"provider": VENDOR_PROVIDER, "base_url": vendor_url(g.sandbox.url, vendor),
                               "credentials_ref": vendor})
    await g.put_node(dc, kind="dc", postal_code="90001")
    key = await g.node_key(vendor)
    configure_vendor(g.sandbox.url, vendor, events_url=gateway_url, node_key=key["Authorization"][7:],
                     answers=["silent"])
    for node in (vendor, dc):
        await g.stock(node, sku, 5)
    order_id = await g.place((sku, 2))
    [po_shipment] = (await g.wait_for(order_id, released, "the PO sent"))["shipments"]
    assert po_shipment["node_id"] == vendor
    [po] = await eventually(lambda: purchase_orders(g.sandbox.url, vendor), "the vendor to have the PO")
    assert po["po"]["po_number"] == po_shipment["shipment_id"] and po["status"] != "cancelled"

    await time_skipping_env.sleep(timedelta(minutes=44))
    inside = await g.view(order_id)
    assert [s["node_id"] for s in inside["shipments"]] == [vendor], "inside its SLA the vendor keeps the PO"
    await time_skipping_env.sleep(timedelta(minutes=2))

    view = await g.wait_for(order_id, lambda v: len(v["shipments"]) == 2 and v["shipments"][1]["state"] == "released",
                            "the lines planned again at the DC")
    handed_back, again = view["shipments"]
    assert handed_back["state"] == "cancelled" and (again["node_id"], lines_of(again)) == (dc, [(sku, 2)])
    assert [p["status"] for p in purchase_orders(g.sandbox.url, vendor)] == ["cancelled"], \
        "the PO is cancelled at the vendor"
    assert any(f"no answer from {vendor} within 45 min" in e for e in view["events"]), view["events"]
    assert await g.position(vendor, sku) == (5, 0, 5)
    assert await g.position(dc, sku) == (5, 2, 3)

    await g.node_ships(again["shipment_id"], await g.node_key(dc))
    done = await g.wait_for(order_id, lambda v: v["status"] == "completed", "the order completed")
    assert done["lines"][0]["quantity_cancelled"] == 0
