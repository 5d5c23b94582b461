"""Safety-stock defaults, channel allocation, batch availability and batch counts/deltas over the gateway."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from models.inventory import ReservationItem
from store import Store
from tests.fixtures.gateway import (
    MONDAY_10AM,
    YAML,
    a_node_body,
    demo_cost_model_yaml,
    field_locs,
    gateway_for,
    sourcing_gateway,
    unreachable_temporal,
)


@pytest.fixture
async def http(store: Store) -> AsyncIterator[httpx.AsyncClient]:
    async with gateway_for(store, await unreachable_temporal()) as client:
        await client.put("/v1/nodes/dc-chi", json=a_node_body())
        await client.put("/v1/nodes/store-nyc", json=a_node_body(name="NYC", kind="store", postal_code="10001"))
        yield client


async def count(http: httpx.AsyncClient, node_id: str, sku: str, on_hand: int) -> None:
    response = await http.put(f"/v1/inventory/{node_id}/{sku}", json={"on_hand": on_hand})
    assert response.status_code == 200


def atp_by_node(body: dict[str, Any]) -> dict[str, int]:
    return {node["node_id"]: node["atp"] for node in body["nodes"]}


async def test_safety_stock_defaults_set_over_the_api_lower_atp(http: httpx.AsyncClient) -> None:
    await count(http, "dc-chi", "MUG-1", 10)
    await count(http, "store-nyc", "MUG-1", 10)

    put = await http.put("/v1/safety-stock/defaults", json={"by_kind": {"store": 2}, "by_node": {"dc-chi": 3}})

    assert put.status_code == 200
    assert (await http.get("/v1/safety-stock/defaults")).json() == {"by_kind": {"store": 2}, "by_node": {"dc-chi": 3}}
    body = (await http.get("/v1/availability", params={"sku": "MUG-1"})).json()
    assert atp_by_node(body) == {"dc-chi": 7, "store-nyc": 8}
    assert body["total_atp"] == 15


@pytest.mark.parametrize(
    ("defaults", "loc"),
    [
        ({"by_kind": {"store": -1}}, ["body", "by_kind", "store"]),
        ({"by_kind": {"kiosk": 1}}, ["body", "by_kind", "kiosk", "[key]"]),
        ({"by_node": {"dc-chi": "many"}}, ["body", "by_node", "dc-chi"]),
    ],
)
async def test_bad_safety_stock_defaults_are_a_422_naming_the_field(
    http: httpx.AsyncClient, defaults: dict[str, Any], loc: list[str]
) -> None:
    response = await http.put("/v1/safety-stock/defaults", json=defaults)

    assert response.status_code == 422
    assert field_locs(response) == [loc]


async def test_a_safety_stock_default_for_an_unknown_node_is_a_404(http: httpx.AsyncClient) -> None:
    response = await http.put("/v1/safety-stock/defaults", json={"by_node": {"nowhere": 1}})

    assert response.status_code == 404
    assert "nowhere" in response.json()["detail"]


async def test_the_marketplace_sees_its_share_without_store_stock_and_is_told_why(http: httpx.AsyncClient) -> None:
    await count(http, "dc-chi", "MUG-1", 9)
    await count(http, "store-nyc", "MUG-1", 5)

    put = await http.put("/v1/channels/marketplace/allocation", json={"percent": 80, "hidden_node_kinds": ["store"]})
    body = (await http.get("/v1/availability", params={"sku": "MUG-1", "channel": "marketplace"})).json()

    assert put.status_code == 200
    assert (await http.get("/v1/channels/marketplace/allocation")).json()["percent"] == 80
    assert atp_by_node(body) == {"dc-chi": 7}
    assert (body["total_atp"], body["network_atp"], body["channel"]) == (7, 14, "marketplace")
    assert body["explanation"] == [
        "marketplace sees 80% of each node's ATP, rounded down",
        "store nodes hidden from marketplace",
    ]


async def test_a_channel_rule_is_read_back_dropped_and_then_unknown(http: httpx.AsyncClient) -> None:
    assert (await http.get("/v1/channels/web/allocation")).status_code == 404
    await http.put("/v1/channels/web/allocation", json={"buffer": 2})

    assert (await http.delete("/v1/channels/web/allocation")).status_code == 204
    assert (await http.get("/v1/channels/web/allocation")).status_code == 404


@pytest.mark.parametrize(
    ("rule", "loc"),
    [({"percent": 150}, ["body", "percent"]), ({"buffer": -1}, ["body", "buffer"]), ({"x": 1}, ["body", "x"])],
)
async def test_a_bad_channel_rule_is_a_422_naming_the_field(
    http: httpx.AsyncClient, rule: dict[str, Any], loc: list[str]
) -> None:
    response = await http.put("/v1/channels/web/allocation", json=rule)

    assert response.status_code == 422
    assert field_locs(response) == [loc]


async def test_batch_availability_answers_every_sku_from_one_positions_query(
    http: httpx.AsyncClient, store: Store
) -> None:
    await count(http, "dc-chi", "MUG-1", 4)
    await count(http, "store-nyc", "MUG-1", 1)
    await count(http, "store-nyc", "TEE-1", 6)
    await http.put("/v1/channels/marketplace/allocation", json={"only_node_kinds": ["dc"]})
    statements: list[str] = []
    sa.event.listen(store.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))

    response = await http.post(
        "/v1/availability:batch", json={"skus": ["TEE-1", "MUG-1", "NONE-1"], "channel": "marketplace"}
    )

    assert response.status_code == 200
    items = response.json()["items"]
    assert [(item["sku"], item["total_atp"], item["network_atp"]) for item in items] == [
        ("TEE-1", 0, 6),
        ("MUG-1", 4, 5),
        ("NONE-1", 0, 0),
    ]
    assert len([s for s in statements if "FROM inventory_positions" in s]) == 1


async def test_a_batch_of_more_than_1000_skus_is_a_422_naming_skus(http: httpx.AsyncClient) -> None:
    response = await http.post("/v1/availability:batch", json={"skus": [f"SKU-{n}" for n in range(1001)]})

    assert response.status_code == 422
    assert field_locs(response) == [["body", "skus"]]


async def test_a_batch_of_counts_and_deltas_applies_each_as_a_ledger_row(http: httpx.AsyncClient, store: Store) -> None:
    await count(http, "dc-chi", "MUG-1", 4)
    items = [
        {"node_id": "dc-chi", "sku": "MUG-1", "delta": 6, "kind": "receipt", "source": "wms", "reason": "PO 17"},
        {"node_id": "store-nyc", "sku": "MUG-1", "on_hand": 3, "source": "pos"},
        {"node_id": "dc-chi", "sku": "MUG-1", "delta": -2, "source": "wms", "reason": "damaged"},
    ]

    response = await http.post("/v1/inventory:batch", json={"items": items})

    assert response.status_code == 200
    assert [(a["kind"], a["on_hand_delta"], a["on_hand"]) for a in response.json()["applied"]] == [
        ("receipt", 6, 10),
        ("count", 3, 3),
        ("adjustment", -2, 8),
    ]
    assert atp_by_node((await http.get("/v1/availability", params={"sku": "MUG-1"})).json()) == {
        "dc-chi": 8,
        "store-nyc": 3,
    }
    recent = [(m.kind, m.on_hand_delta, m.reason, m.source) for m in store.ledger(node_id="dc-chi", sku="MUG-1")][-2:]
    assert recent == [("receipt", 6, "PO 17", "wms"), ("adjustment", -2, "damaged", "wms")]
    replayed = store.replay_positions()
    assert {key: value[0] for key, value in replayed.items()} == {("dc-chi", "MUG-1"): 8, ("store-nyc", "MUG-1"): 3}


@pytest.mark.parametrize(
    ("bad_item", "loc"),
    [
        ({"node_id": "nowhere", "sku": "MUG-1", "on_hand": 1, "source": "wms"}, ["body", "items", 1, "node_id"]),
        ({"node_id": "dc-chi", "sku": "MUG-1", "delta": -6, "source": "wms"}, ["body", "items", 1, "delta"]),
        ({"node_id": "dc-chi", "sku": "MUG-1", "on_hand": -1, "source": "wms"}, ["body", "items", 1, "on_hand"]),
        ({"node_id": "dc-chi", "sku": "MUG-1", "on_hand": "lots", "source": "wms"}, ["body", "items", 1, "on_hand"]),
    ],
)
async def test_a_bad_item_fails_the_whole_batch_naming_its_index_and_field(
    http: httpx.AsyncClient, store: Store, bad_item: dict[str, Any], loc: list[str | int]
) -> None:
    await count(http, "dc-chi", "MUG-1", 4)
    good = {"node_id": "dc-chi", "sku": "MUG-1", "delta": 1, "kind": "receipt", "source": "wms"}
    ledger_before = store.ledger()

    response = await http.post("/v1/inventory:batch", json={"items": [good, bad_item]})

    assert response.status_code == 422
    assert field_locs(response) == [loc]
    assert store.ledger() == ledger_before
    assert store.availability("MUG-1").total_atp == 4


async def test_a_count_older_than_the_last_movement_is_refused_with_that_time(
    http: httpx.AsyncClient, store: Store
) -> None:
    await count(http, "dc-chi", "MUG-1", 4)
    last_movement_at = store.ledger(node_id="dc-chi", sku="MUG-1")[-1].created_at
    old = (last_movement_at - timedelta(minutes=5)).isoformat()
    fresh = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
    items = [
        {"node_id": "store-nyc", "sku": "MUG-1", "on_hand": 2, "source": "pos", "as_of": fresh},
        {"node_id": "dc-chi", "sku": "MUG-1", "on_hand": 9, "source": "wms", "as_of": old},
    ]

    response = await http.post("/v1/inventory:batch", json={"items": items})

    assert response.status_code == 409
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "items", 1, "as_of"]
    assert datetime.fromisoformat(error["last_movement_at"]) == last_movement_at
    assert atp_by_node((await http.get("/v1/availability", params={"sku": "MUG-1"})).json()) == {"dc-chi": 4}


async def test_a_count_newer_than_the_last_movement_applies(http: httpx.AsyncClient) -> None:
    await count(http, "dc-chi", "MUG-1", 4)
    as_of = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
    item = {"node_id": "dc-chi", "sku": "MUG-1", "on_hand": 9, "source": "wms", "as_of": as_of}

    response = await http.post("/v1/inventory:batch", json={"items": [item]})

    assert response.status_code == 200
    assert (await http.get("/v1/availability", params={"sku": "MUG-1"})).json()["total_atp"] == 9


async def test_an_item_sent_again_with_its_key_is_applied_once(http: httpx.AsyncClient, store: Store) -> None:
    receipt = {"node_id": "dc-chi", "sku": "MUG-9", "delta": 5, "kind": "receipt", "source": "wms", "key": "ASN-88"}

    first = await http.post("/v1/inventory:batch", json={"items": [receipt]})
    again = await http.post("/v1/inventory:batch", json={"items": [receipt, receipt | {"key": "ASN-89"}]})

    assert first.status_code == again.status_code == 200
    assert [(a["replayed"], a["on_hand"]) for a in again.json()["applied"]] == [(True, 5), (False, 10)]
    assert atp_by_node((await http.get("/v1/availability", params={"sku": "MUG-9"})).json())["dc-chi"] == 10
    assert [m.key for m in store.ledger(node_id="dc-chi", sku="MUG-9")] == ["ASN-88", "ASN-89"]


# ---- who can deliver by a date (demo cost model; Monday 2 June 2025, 10:00 in Chicago) ----------------


@pytest.fixture
async def delivering(store: Store) -> AsyncIterator[httpx.AsyncClient]:
    """The demo cost model; MUG-1 at a Chicago DC (9) and a New York store (5), asked about at 10:00 on a
    Monday in Chicago, before both cut-offs. To ZIP 10003 the store is zone 1 (priced as the cards'
    zone 2: Ground 1 day), the DC zone 5 (Ground 3 days, 2nd Day Air 2, Next Day Air 1)."""
    async with sourcing_gateway(store, await unreachable_temporal(), MONDAY_10AM) as client:
        await client.put("/v1/nodes/dc-chi", json=a_node_body())
        await client.put("/v1/nodes/store-nyc", json=a_node_body(name="NYC", kind="store", postal_code="10001"))
        await count(client, "dc-chi", "MUG-1", 9)
        await count(client, "store-nyc", "MUG-1", 5)
        put = await client.put("/v1/sourcing/cost-model", content=demo_cost_model_yaml(), headers=YAML)
        assert put.status_code == 200
        yield client


def deliveries(body: dict[str, Any]) -> list[tuple[str, str, str, int]]:
    return [(n["node_id"], n["delivery_date"], n["service"], n["atp"]) for n in body["delivery"]["nodes"]]


async def test_without_a_destination_availability_has_no_delivery(delivering: httpx.AsyncClient) -> None:
    body = (await delivering.get("/v1/availability", params={"sku": "MUG-1"})).json()

    assert set(body) == {"sku", "channel", "total_atp", "network_atp", "nodes", "explanation"}
    assert body["total_atp"] == 14


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        # By Tuesday: the store by Ground, Chicago only by Next Day Air; both arrive Tuesday, so by node id.
        ({"deliver_by": "2025-06-03"},
         [("dc-chi", "2025-06-03", "ups-next-day-air", 9), ("store-nyc", "2025-06-03", "ups-ground", 5)]),
        # By Wednesday: Chicago's cheapest in time is 2nd Day Air; the store's Tuesday comes first.
        ({"deliver_by": "2025-06-04"},
         [("store-nyc", "2025-06-03", "ups-ground", 5), ("dc-chi", "2025-06-04", "ups-2nd-day-air", 9)]),
        ({"deliver_by": "2025-06-04", "level": "next_day"},
         [("dc-chi", "2025-06-03", "ups-next-day-air", 9), ("store-nyc", "2025-06-03", "ups-next-day-air", 5)]),
        ({"deliver_by": "2025-06-30", "quantity": 6}, [("dc-chi", "2025-06-05", "ups-ground", 9)]),
        ({"deliver_by": "2025-06-02"}, []),
    ],
)
async def test_availability_lists_the_nodes_that_deliver_by_the_date(
    delivering: httpx.AsyncClient, params: dict[str, Any], expected: list[tuple[str, str, str, int]]
) -> None:
    response = await delivering.get("/v1/availability", params={"sku": "MUG-1", "postal_code": "10003", **params})

    assert response.status_code == 200
    body = response.json()
    assert deliveries(body) == expected
    assert body["delivery"]["total_atp"] == sum(atp for *_, atp in expected)
    assert (body["total_atp"], body["delivery"]["quantity"]) == (14, params.get("quantity", 1))


async def test_a_channel_is_told_only_of_the_nodes_it_sees(delivering: httpx.AsyncClient) -> None:
    await delivering.put("/v1/channels/marketplace/allocation", json={"percent": 50, "hidden_node_kinds": ["store"]})
    params = {"sku": "MUG-1", "postal_code": "10003", "deliver_by": "2025-06-05", "channel": "marketplace"}

    body = (await delivering.get("/v1/availability", params=params)).json()

    assert deliveries(body) == [("dc-chi", "2025-06-05", "ups-ground", 4)]


@pytest.mark.parametrize(
    ("params", "loc"),
    [
        ({"postal_code": "10003"}, ["query", "deliver_by"]),
        ({"deliver_by": "2025-06-04"}, ["query", "postal_code"]),
        ({"level": "two_day"}, ["query", "postal_code"]),
        ({"postal_code": "00000", "deliver_by": "2025-06-04"}, ["query", "postal_code"]),
        ({"postal_code": "10003", "deliver_by": "June 4"}, ["query", "deliver_by"]),
        ({"postal_code": "10003", "deliver_by": "2025-06-04", "quantity": 0}, ["query", "quantity"]),
    ],
)
async def test_a_bad_delivery_question_is_a_422_naming_the_parameter(
    delivering: httpx.AsyncClient, params: dict[str, Any], loc: list[str | int]
) -> None:
    response = await delivering.get("/v1/availability", params={"sku": "MUG-1", **params})

    assert response.status_code == 422
    assert field_locs(response) == [loc]


async def test_a_delivery_question_without_a_cost_model_is_a_409(http: httpx.AsyncClient) -> None:
    response = await http.get("/v1/availability", params={"sku": "MUG-1", "postal_code": "10003",
                                                          "deliver_by": "2025-06-04"})

    assert response.status_code == 409
    assert "no cost model" in response.json()["detail"]


async def test_a_channels_availability_is_what_it_may_still_reserve(http: httpx.AsyncClient, store: Store) -> None:
    await count(http, "dc-chi", "SKU-1", 20)
    assert (await http.put("/v1/channels/market/allocation", json={"percent": 50})).status_code == 200
    before = atp_by_node((await http.get("/v1/availability", params={"sku": "SKU-1", "channel": "market"})).json())

    reserved = store.reserve([ReservationItem(key="market-1:SKU-1", node_id="dc-chi", sku="SKU-1", quantity=4)],
                             order_id="market-1", expires_at=None, source="test")
    after = atp_by_node((await http.get("/v1/availability", params={"sku": "SKU-1", "channel": "market"})).json())
    batch = (await http.post("/v1/availability:batch", json={"skus": ["SKU-1"], "channel": "market"})).json()

    assert reserved.ok
    assert before == {"dc-chi": 10}
    # Half of the 20 units before its own reservations took any, less the 4 it holds: 6 left to reserve.
    assert after == {"dc-chi": 6}
    assert batch["items"][0]["total_atp"] == 6
