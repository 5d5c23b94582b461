"""The audit trail and an order's timeline through the gateway, on a real Temporal dev server and a real
worker: the keys behind each change (node, admin, channel, operator) and the workflows behind the rest."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx

from models.audit import Actor, AuditFilter
from models.inventory import MovementKind
from models.keys import KeyCreate, KeyCreated, Role
from models.order import LineStatus, OrderView
from omniroute.files.cost_files import demo_catalog_path, load_catalog
from store import Store
from tests.fixtures.eventually import eventually, eventually_reads
from tests.fixtures.gateway import YAML, a_node_body, demo_cost_model_yaml, gateway_for
from tests.fixtures.orders import an_order
from tests.fixtures.temporal import RunningWorker
from tests.fixtures.workflows import all_released, wait_for

Json = dict[str, Any]
TWO_BOXES = """
version: 1
rules:
  - id: web-two-boxes
    description: web orders leave in two parcels at most
    when: {channel_in: [web]}
    then: [{max_shipments: 2}]
"""


def a_key(store: Store, role: Role, **scope: list[str]) -> KeyCreated:
    return store.create_key(KeyCreate(name=f"{role.value} {uuid.uuid4().hex[:6]}", role=role, **scope))


def key_actor(key: KeyCreated) -> Json:
    return {"role": key.role.value, "id": key.key_id}


async def entries(http: httpx.AsyncClient, **params: str) -> list[tuple[str, Json, str]]:
    response = await http.get("/v1/audit", params=params)
    assert response.status_code == 200, response.text
    return [(e["kind"], e["actor"], e["subject"]) for e in response.json()["entries"]]


async def test_the_audit_trail_names_the_key_and_role_behind_each_change(omniroute_worker: RunningWorker) -> None:
    w = omniroute_worker
    node_id = f"dc-{uuid.uuid4().hex[:6]}"
    admin, wms = a_key(w.store, Role.ADMIN), a_key(w.store, Role.NODE, nodes=[node_id])
    shop = a_key(w.store, Role.CHANNEL, channels=["web"])
    order = an_order(("MUG-1", 2))
    before = datetime.now(UTC)
    async with gateway_for(w.store, w.sdk, admin.token) as as_admin, \
            gateway_for(w.store, w.sdk, wms.token) as as_wms, gateway_for(w.store, w.sdk, shop.token) as as_shop:
        assert (await as_admin.put(f"/v1/nodes/{node_id}", json=a_node_body(postal_code="60106"))).status_code == 200
        refused = await as_admin.put(f"/v1/nodes/{node_id}", json=a_node_body(postal_code="00000"))
        assert (await as_wms.put(f"/v1/inventory/{node_id}/MUG-1", json={"on_hand": 5})).status_code == 200
        between = datetime.now(UTC)
        placed = await as_shop.post("/v1/orders", json=order.model_dump(mode="json"))
        assert (refused.status_code, placed.status_code) == (422, 202)

        everything = await entries(as_admin, since=before.isoformat())
        by_wms = await entries(as_admin, actor=wms.key_id)
        intakes = await entries(as_admin, kind="order.intake")
        since_between = await entries(as_admin, since=between.isoformat())
        until_between = await entries(as_admin, since=before.isoformat(), until=between.isoformat())

    assert everything == [
        ("order.intake", key_actor(shop), order.order_id),
        ("inventory.count", key_actor(wms), node_id),
        ("node.put", key_actor(admin), node_id),
    ]
    assert by_wms == [everything[1]]
    assert intakes == since_between == [everything[0]]
    assert until_between == everything[1:]
    count = w.store.ledger(node_id=node_id, sku="MUG-1")[0]
    assert count.actor == Actor.key(wms.key_id, Role.NODE)
    reserved = await eventually(lambda: [m for m in w.store.order_movements(order.order_id)
                                         if m.kind is MovementKind.RESERVE], "the order's reservation")
    assert {m.actor for m in reserved} == {Actor.workflow(f"order-{order.order_id}")}


def line_cancelled(line_no: int) -> Callable[[OrderView], bool]:
    return lambda view: view.lines[line_no - 1].status is LineStatus.CANCELLED


async def test_an_orders_timeline_shows_what_happened_and_who_did_it_in_time_order(
    omniroute_worker: RunningWorker,
) -> None:
    w = omniroute_worker
    admin, operator = a_key(w.store, Role.ADMIN), a_key(w.store, Role.OPERATOR)
    wms = a_key(w.store, Role.NODE, nodes=["dc-il", "dc-nj"])
    shop, other_shop = a_key(w.store, Role.CHANNEL, channels=["web"]), a_key(w.store, Role.CHANNEL, channels=["b2b"])
    w.store.upsert_skus(list(load_catalog(demo_catalog_path()).skus.values()))
    # One SKU at each DC, so that the order leaves in two shipments: one is delivered, one cancelled.
    order = an_order(("TEE-CREW-BLK", 1), ("TEE-CREW-WHT", 1))
    async with gateway_for(w.store, w.sdk, admin.token) as as_admin, \
            gateway_for(w.store, w.sdk, wms.token) as as_wms, gateway_for(w.store, w.sdk, shop.token) as as_shop, \
            gateway_for(w.store, w.sdk, operator.token) as as_operator, \
            gateway_for(w.store, w.sdk, other_shop.token) as as_other_shop:
        assert (await as_admin.put("/v1/sourcing/cost-model", content=demo_cost_model_yaml(), headers=YAML)).is_success
        assert (await as_admin.put("/v1/sourcing/rules", content=TWO_BOXES, headers=YAML)).is_success
        for node_id, postal_code, sku in (("dc-il", "60106", "TEE-CREW-BLK"), ("dc-nj", "08817", "TEE-CREW-WHT")):
            assert (await as_admin.put(f"/v1/nodes/{node_id}", json=a_node_body(postal_code=postal_code))).is_success
            assert (await as_wms.put(f"/v1/inventory/{node_id}/{sku}", json={"on_hand": 5})).is_success
        assert (await as_shop.post("/v1/orders", json=order.model_dump(mode="json"))).status_code == 202
        view = await wait_for(w, order.order_id, all_released)
        shipment_at = {s.node_id: s.shipment_id for s in view.shipments}
        delivered, cancelled = shipment_at["dc-il"], shipment_at["dc-nj"]
        for kind in ("picked", "packed", "shipped", "delivered"):
            response = await as_wms.post(f"/v1/shipments/{delivered}/events", json={"type": kind})
            assert response.status_code == 202, response.text
        cancel = await as_operator.post(f"/v1/orders/{order.order_id}/cancel", json={"line_nos": [2]})
        assert cancel.status_code == 200, cancel.text
        assert cancel.json()["cancelled_shipment_ids"] == [cancelled]
        await wait_for(w, order.order_id, line_cancelled(2))

        path = f"/v1/orders/{order.order_id}/timeline"

        async def read(http: httpx.AsyncClient) -> Json:
            response = await http.get(path)
            assert response.status_code == 200, response.text
            body: Json = response.json()
            return body

        def complete(timeline: Json) -> bool:
            kinds = {event["kind"] for event in timeline["events"]}
            return {"delivered", "release"} <= kinds

        as_seen_by_ops = await eventually_reads(lambda: read(as_operator), complete, "the whole timeline")
        as_seen_by_shop = await read(as_shop)
        theirs = await as_other_shop.get(path)

    events = as_seen_by_ops["events"]
    assert as_seen_by_ops["live_view_read"] is True and as_seen_by_ops["notes"]
    assert [e["at"] for e in events] == sorted(e["at"] for e in events), "oldest first"
    firsts = {}
    for index, event in enumerate(events):
        firsts.setdefault(event["kind"], index)
    story = ["intake", "rules", "decision", "reserve", "node_event", "delivered", "cancel"]
    assert [firsts[kind] for kind in story] == sorted(firsts[kind] for kind in story), [e["kind"] for e in events]

    workflow = {"role": "workflow", "id": f"order-{order.order_id}"}

    def actors(kind: str) -> list[Json]:
        return [e["actor"] for e in events if e["kind"] == kind]

    assert actors("intake") == [key_actor(shop)]
    assert actors("rules") == actors("decision") == [workflow]
    assert actors("reserve") == [workflow, workflow]
    assert actors("node_event") == [key_actor(wms)] * 4
    assert actors("cancel") == [key_actor(operator)]
    assert workflow in actors("commit") and workflow in actors("release")
    [decision] = [e["summary"] for e in events if e["kind"] == "decision"]
    assert "cost model v1" in decision and "rules v1" in decision
    [shipped] = [e["summary"] for e in events if e["kind"] == "shipped"]
    assert shipped.startswith(f"{delivered} shipped from dc-il; label UPS")
    record = w.store.get_order(order.order_id)
    assert record is not None and record.decision is not None
    assert (record.decision.cost_model_version, record.decision.rules_version) == (1, 1)
    assert [e["actor"] for e in as_seen_by_shop["events"] if e["kind"] == "node_event"] == [
        {"role": "node", "id": None}] * 4, "a channel key sees other keys by their role only"
    assert theirs.status_code == 404
    assert [e.kind.value for e in w.store.audit_entries(AuditFilter(order_id=order.order_id))] == [
        "order.cancel", *["shipment.event"] * 4, "order.intake"]
