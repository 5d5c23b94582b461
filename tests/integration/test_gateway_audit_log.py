"""The audit trail, the kept versions of the sourcing documents and the timeline's DB-only answer over
the gateway, with a Temporal nobody answers (tests/integration/test_gateway_audit_trail.py has the
ones on a real worker)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx

from models.address import Address
from models.audit import Actor, AuditFilter, AuditKind
from models.inventory import ReservationItem
from models.keys import KeyCreate, KeyCreated, Role
from models.order import Customer, OrderLineIn, OrderStatus
from models.records import OrderRecord
from omniroute.client import OmnirouteClient
from store import Store
from tests.fixtures.db import a_node
from tests.fixtures.gateway import YAML, a_node_body, demo_cost_model_yaml, gateway_for, unreachable_temporal

Json = dict[str, Any]
RULES = "version: 1\nrules:\n  - id: {id}\n    description: web parcels\n    when: {{channel_in: [web]}}\n" \
    "    then: [{action}]\n"
RULES_V1 = RULES.format(id="web-two-boxes", action="{max_shipments: 2}")
RULES_V2 = RULES.format(id="web-one-box", action="{ship_complete: true}")


def a_key(store: Store, role: Role, **scope: list[str]) -> KeyCreated:
    return store.create_key(KeyCreate(name=f"{role.value} {uuid.uuid4().hex[:6]}", role=role, **scope))


def an_order_record(channel: str = "web") -> OrderRecord:
    order_id = f"{channel}-{uuid.uuid4().hex[:10]}"
    return OrderRecord(
        order_id=order_id, workflow_id=f"order-{order_id}", channel=channel,
        channel_order_id=order_id.removeprefix(f"{channel}-"), status=OrderStatus.FULFILLING, currency="USD",
        customer=Customer(email="ada@example.com", name="Ada Lovelace"),
        ship_to=Address(name="Ada Lovelace", line1="1 Main St", city="Chicago", region="IL", postal_code="60601"),
        lines=[OrderLineIn(sku="MUG-1", quantity=2, unit_price=1999)], created_at=datetime.now(UTC),
    )


async def audit(http: httpx.AsyncClient, **params: str | int) -> Json:
    response = await http.get("/v1/audit", params=params)
    assert response.status_code == 200, response.text
    body: Json = response.json()
    return body


async def test_pages_of_the_audit_trail_follow_each_other_newest_first_without_repeats(store: Store) -> None:
    nodes = [f"dc-{uuid.uuid4().hex[:6]}" for _ in range(5)]
    async with gateway_for(store, await unreachable_temporal()) as http:
        for node_id in nodes:
            assert (await http.put(f"/v1/nodes/{node_id}", json=a_node_body())).status_code == 200

        seen: list[str] = []
        page = await audit(http, kind="node.put", limit=2)
        sizes = [len(page["entries"])]
        seen += [entry["subject"] for entry in page["entries"]]
        while page["next_cursor"] is not None:
            page = await audit(http, kind="node.put", limit=2, cursor=page["next_cursor"])
            sizes.append(len(page["entries"]))
            seen += [entry["subject"] for entry in page["entries"]]

    assert sizes == [2, 2, 1]
    assert seen == nodes[::-1]


async def test_a_cursor_the_route_did_not_hand_out_is_a_422_naming_it(store: Store) -> None:
    async with gateway_for(store, await unreachable_temporal()) as http:
        response = await http.get("/v1/audit", params={"cursor": "not-a-cursor"})

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "cursor"]


async def test_a_write_refused_records_nothing(store: Store) -> None:
    store.upsert_node(a_node("dc-a"))
    wms = a_key(store, Role.NODE, nodes=["dc-a"])
    client = await unreachable_temporal()
    async with gateway_for(store, client) as admin, gateway_for(store, client, wms.token) as node:
        refused = [
            await admin.put("/v1/nodes/dc-b", json=a_node_body(postal_code="00000")),
            await admin.put("/v1/nodes/dc-b", json=a_node_body(node_id="dc-c")),
            await node.put("/v1/inventory/dc-a/MUG-1", json={"on_hand": -1}),
            await node.put("/v1/inventory/dc-b/MUG-1", json={"on_hand": 1}),
            await node.post("/v1/inventory:batch", json={"items": [
                {"node_id": "dc-a", "sku": "MUG-1", "delta": -5, "source": "wms"}]}),
            await admin.put("/v1/sourcing/cost-model", content="services: nope", headers=YAML),
            await admin.delete("/v1/channels/web/allocation"),
        ]
        assert [r.status_code for r in refused] == [422, 422, 422, 403, 422, 422, 404]
        assert (await audit(admin))["entries"] == []


async def test_only_operator_and_admin_keys_read_the_audit_trail(store: Store) -> None:
    store.upsert_node(a_node("dc-a"))
    keys = {role: a_key(store, role, **scope) for role, scope in (
        (Role.CHANNEL, {"channels": ["web"]}), (Role.NODE, {"nodes": ["dc-a"]}), (Role.OPERATOR, {}))}
    client = await unreachable_temporal()
    statuses = {}
    for role, key in keys.items():
        async with gateway_for(store, client, key.token) as http:
            statuses[role] = (await http.get("/v1/audit")).status_code
    assert statuses == {Role.CHANNEL: 403, Role.NODE: 403, Role.OPERATOR: 200}


async def test_two_cost_models_put_are_two_versions_both_readable_and_the_newest_is_served(store: Store) -> None:
    first_admin, second_admin = a_key(store, Role.ADMIN), a_key(store, Role.ADMIN)
    operator = a_key(store, Role.OPERATOR)
    client = await unreachable_temporal()
    cheaper = demo_cost_model_yaml().replace("split_penalty_cents: 150", "split_penalty_cents: 1")
    async with gateway_for(store, client, first_admin.token) as first, \
            gateway_for(store, client, second_admin.token) as second, \
            gateway_for(store, client, operator.token) as reader:
        assert (await first.put("/v1/sourcing/cost-model", content=demo_cost_model_yaml(), headers=YAML)).is_success
        assert (await second.put("/v1/sourcing/cost-model", content=cheaper, headers=YAML)).is_success

        listed = (await reader.get("/v1/sourcing/cost-model/versions")).json()
        v1, v2 = [await reader.get(f"/v1/sourcing/cost-model/versions/{n}") for n in (1, 2)]
        current = await reader.get("/v1/sourcing/cost-model")
        missing = await reader.get("/v1/sourcing/cost-model/versions/3")

    assert [(v["version"], v["actor"]) for v in listed] == [
        (2, {"role": "admin", "id": second_admin.key_id}), (1, {"role": "admin", "id": first_admin.key_id})]
    assert (v1.status_code, v2.status_code, v2.headers["ETag"]) == (200, 200, '"2"')
    assert v1.json()["cost_model"] != v2.json()["cost_model"]
    assert current.json() == v2.json()
    assert missing.status_code == 404
    changes = store.audit_entries(AuditFilter(kind=AuditKind.COST_MODEL_PUT))
    assert [(c.actor.id, c.detail) for c in changes] == [(second_admin.key_id, {"version": 2}),
                                                        (first_admin.key_id, {"version": 1})]


async def test_the_rules_keep_their_versions_too(store: Store) -> None:
    async with gateway_for(store, await unreachable_temporal()) as http:
        for text in (RULES_V1, RULES_V2):
            assert (await http.put("/v1/sourcing/rules", content=text, headers=YAML)).is_success
        listed = (await http.get("/v1/sourcing/rules/versions")).json()
        first = (await http.get("/v1/sourcing/rules/versions/1")).json()
        current = (await http.get("/v1/sourcing/rules")).json()

    assert [v["version"] for v in listed] == [2, 1]
    assert all(v["actor"] == {"role": "admin", "id": "bootstrap"} for v in listed)
    assert first["rules"]["rules"][0]["id"] == "web-two-boxes"
    assert current["version"] == 2 and current["rules"]["rules"][0]["id"] == "web-one-box"


async def test_the_timeline_answers_from_the_db_when_temporal_is_out_of_reach(store: Store) -> None:
    store.upsert_node(a_node("dc-a"))
    store.set_on_hand("dc-a", "MUG-1", 5, source="wms")
    order = an_order_record()
    store.record_order(order)
    store.reserve([ReservationItem(key=f"{order.order_id}-S1:MUG-1", node_id="dc-a", sku="MUG-1", quantity=2)],
                  order_id=order.order_id, expires_at=None, source=f"order:{order.order_id}")
    shop = a_key(store, Role.CHANNEL, channels=["web"])
    client: OmnirouteClient = await unreachable_temporal()
    async with gateway_for(store, client, shop.token) as http:
        response = await http.get(f"/v1/orders/{order.order_id}/timeline")

    assert response.status_code == 200, response.text
    timeline = response.json()
    assert (timeline["live_view_read"], timeline["status"], timeline["notes"]) == (False, "fulfilling", [])
    assert [(e["kind"], e["actor"]) for e in timeline["events"]] == [
        ("intake", {"role": "system", "id": None}),
        ("reserve", Actor.workflow(f"order-{order.order_id}").model_dump()),
    ]


async def test_a_channel_key_of_another_channel_gets_a_404_for_the_timeline(store: Store) -> None:
    order = an_order_record("web")
    store.record_order(order)
    other = a_key(store, Role.CHANNEL, channels=["b2b"])
    client = await unreachable_temporal()
    async with gateway_for(store, client, other.token) as http:
        theirs = await http.get(f"/v1/orders/{order.order_id}/timeline")
    async with gateway_for(store, client) as http:
        unknown = await http.get(f"/v1/orders/web-{uuid.uuid4().hex[:10]}/timeline")

    assert (theirs.status_code, unknown.status_code) == (404, 404)
    assert theirs.json() == {"detail": f"unknown order {order.order_id!r}"}
