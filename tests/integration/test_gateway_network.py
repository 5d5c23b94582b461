"""The gateway's network, inventory and ATP endpoints on a real app DB; Temporal is out of reach here,
which the order endpoints must answer with 503 (and intake validation must still work)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from gateway.app import create_app
from store import Store
from tests.fixtures.gateway import (
    a_node_body,
    closed_port_address,
    field_locs,
    gateway_for,
    gateway_settings,
    http_to,
    unreachable_temporal,
)


@pytest.fixture
async def http(sqlite_store: Store) -> AsyncIterator[httpx.AsyncClient]:
    async with gateway_for(sqlite_store, await unreachable_temporal()) as client:
        yield client


async def test_a_node_put_by_id_is_read_back_and_listed(http: httpx.AsyncClient) -> None:
    put = await http.put("/v1/nodes/DC-CHI", json=a_node_body(capabilities=["ship", "returns"]))

    assert put.status_code == 200
    assert put.json()["node_id"] == "DC-CHI"
    got = await http.get("/v1/nodes/DC-CHI")
    assert got.json() == put.json()
    assert got.json()["capabilities"] == ["ship", "returns"]
    assert [node["node_id"] for node in (await http.get("/v1/nodes")).json()] == ["DC-CHI"]


async def test_putting_a_node_again_replaces_it(http: httpx.AsyncClient) -> None:
    await http.put("/v1/nodes/DC-CHI", json=a_node_body())
    await http.put("/v1/nodes/DC-CHI", json=a_node_body(name="Chicago DC 2", active=False, node_id="DC-CHI"))

    nodes = (await http.get("/v1/nodes")).json()
    assert [(node["name"], node["active"]) for node in nodes] == [("Chicago DC 2", False)]


async def test_a_body_node_id_other_than_the_paths_is_a_422_naming_node_id(http: httpx.AsyncClient) -> None:
    response = await http.put("/v1/nodes/DC-CHI", json=a_node_body(node_id="DC-NYC"))

    assert response.status_code == 422
    assert field_locs(response) == [["body", "node_id"]]
    assert "DC-NYC" in response.json()["detail"][0]["msg"]
    assert (await http.get("/v1/nodes/DC-NYC")).status_code == 404


async def test_an_unknown_us_postal_code_is_a_422_naming_postal_code(http: httpx.AsyncClient) -> None:
    response = await http.put("/v1/nodes/DC-X", json=a_node_body(postal_code="00000"))

    assert response.status_code == 422
    assert field_locs(response) == [["body", "postal_code"]]
    assert "00000" in response.json()["detail"][0]["msg"]
    assert (await http.get("/v1/nodes")).json() == []


async def test_a_node_abroad_is_not_checked_against_us_postal_codes(http: httpx.AsyncClient) -> None:
    response = await http.put("/v1/nodes/DC-TOR", json=a_node_body(postal_code="M5V 2T6", country="CA"))

    assert response.status_code == 200


async def test_a_node_with_a_bad_kind_is_a_422_naming_kind(http: httpx.AsyncClient) -> None:
    response = await http.put("/v1/nodes/DC-X", json=a_node_body(kind="warehouse"))

    assert response.status_code == 422
    assert field_locs(response) == [["body", "kind"]]


async def test_a_node_id_the_path_cannot_hold_is_a_422_naming_node_id(http: httpx.AsyncClient) -> None:
    response = await http.put("/v1/nodes/-bad", json=a_node_body())

    assert response.status_code == 422
    assert field_locs(response) == [["path", "node_id"]]


async def test_an_unknown_node_is_a_404_naming_it(http: httpx.AsyncClient) -> None:
    response = await http.get("/v1/nodes/NOWHERE")

    assert response.status_code == 404
    assert "NOWHERE" in response.json()["detail"]


async def test_a_count_sets_on_hand_and_answers_the_position_with_atp(http: httpx.AsyncClient) -> None:
    await http.put("/v1/nodes/DC-CHI", json=a_node_body())

    response = await http.put("/v1/inventory/DC-CHI/MUG-1", json={"on_hand": 12, "safety_stock": 2})

    assert response.status_code == 200
    position = response.json()
    assert (position["on_hand"], position["reserved"], position["safety_stock"], position["atp"]) == (12, 0, 2, 10)


async def test_a_later_count_replaces_the_earlier_one(http: httpx.AsyncClient) -> None:
    await http.put("/v1/nodes/DC-CHI", json=a_node_body())
    await http.put("/v1/inventory/DC-CHI/MUG-1", json={"on_hand": 12})

    response = await http.put("/v1/inventory/DC-CHI/MUG-1", json={"on_hand": 3})

    assert (response.json()["on_hand"], response.json()["atp"]) == (3, 3)


async def test_a_count_at_an_unknown_node_is_a_404_naming_node_id(http: httpx.AsyncClient) -> None:
    response = await http.put("/v1/inventory/NOWHERE/MUG-1", json={"on_hand": 1})

    assert response.status_code == 404
    assert "node_id" in response.json()["detail"]
    assert "NOWHERE" in response.json()["detail"]


async def test_a_negative_count_is_a_422_naming_on_hand(http: httpx.AsyncClient) -> None:
    await http.put("/v1/nodes/DC-CHI", json=a_node_body())

    response = await http.put("/v1/inventory/DC-CHI/MUG-1", json={"on_hand": -1})

    assert response.status_code == 422
    assert field_locs(response) == [["body", "on_hand"]]


async def test_a_sku_with_a_slash_is_counted_and_found(http: httpx.AsyncClient) -> None:
    await http.put("/v1/nodes/DC-CHI", json=a_node_body())

    counted = await http.put("/v1/inventory/DC-CHI/TEE/M/BLUE", json={"on_hand": 4})
    availability = await http.get("/v1/availability", params={"sku": "TEE/M/BLUE"})

    assert counted.json()["sku"] == "TEE/M/BLUE"
    assert availability.json()["total_atp"] == 4


async def test_availability_adds_atp_over_nodes_on_each_database(store: Store) -> None:
    async with gateway_for(store, await unreachable_temporal()) as http:
        await http.put("/v1/nodes/DC-CHI", json=a_node_body())
        await http.put("/v1/nodes/ST-NYC", json=a_node_body(name="NYC store", kind="store", postal_code="10001"))
        await http.put("/v1/inventory/DC-CHI/MUG-1", json={"on_hand": 7, "safety_stock": 1})
        await http.put("/v1/inventory/ST-NYC/MUG-1", json={"on_hand": 4})
        await http.put("/v1/inventory/ST-NYC/TEE-M", json={"on_hand": 9})

        response = await http.get("/v1/availability", params={"sku": "MUG-1"})

    assert response.status_code == 200
    body = response.json()
    assert (body["sku"], body["total_atp"]) == ("MUG-1", 10)
    assert sorted((node["node_id"], node["atp"]) for node in body["nodes"]) == [("DC-CHI", 6), ("ST-NYC", 4)]


async def test_availability_of_a_malformed_sku_is_a_422_naming_sku(http: httpx.AsyncClient) -> None:
    response = await http.get("/v1/availability", params={"sku": "no spaces allowed"})

    assert response.status_code == 422
    assert field_locs(response) == [["query", "sku"]]


async def test_health_says_the_database_answers_and_temporal_does_not(http: httpx.AsyncClient) -> None:
    response = await http.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": True, "temporal": False}


async def test_order_calls_answer_503_while_temporal_is_unreachable(http: httpx.AsyncClient) -> None:
    status = await http.get("/v1/orders/web-1001")
    returned = await http.get("/v1/returns/RMA-1")

    assert (status.status_code, returned.status_code) == (503, 503)
    assert "unavailable" in status.json()["detail"]


async def test_an_order_to_an_unknown_postal_code_is_a_422_naming_it_before_any_workflow(
    http: httpx.AsyncClient,
) -> None:
    order = {
        "channel": "web", "channel_order_id": "1001", "currency": "USD",
        "customer": {"email": "ada@example.com", "name": "Ada"},
        "ship_to": {"name": "Ada", "line1": "1 Main St", "city": "Nowhere", "postal_code": "00000"},
        "lines": [{"sku": "MUG-1", "quantity": 1, "unit_price": 1250}],
    }

    response = await http.post("/v1/orders", json=order)

    assert response.status_code == 422
    assert field_locs(response) == [["body", "ship_to", "postal_code"]]


async def test_the_app_builds_its_store_and_client_from_settings(sqlite_url: str, tmp_path: Path) -> None:
    settings = gateway_settings(database_url=sqlite_url, temporal_address=closed_port_address(), data_dir=tmp_path)
    app = create_app(settings)

    async with app.router.lifespan_context(app):
        async with http_to(app) as http:
            put = await http.put("/v1/nodes/DC-CHI", json=a_node_body())
            health = await http.get("/healthz")

    assert put.status_code == 200
    assert health.json() == {"status": "ok", "database": True, "temporal": False}
    reopened = Store.connect(sqlite_url)
    try:
        assert [node.node_id for node in reopened.list_nodes()] == ["DC-CHI"]
    finally:
        reopened.dispose()


async def test_the_openapi_document_lists_every_endpoint(http: httpx.AsyncClient) -> None:
    paths = set((await http.get("/openapi.json")).json()["paths"])

    assert paths >= {
        "/healthz", "/v1/nodes", "/v1/nodes/{node_id}", "/v1/inventory/{node_id}/{sku}", "/v1/availability",
        "/v1/orders", "/v1/orders/{order_id}", "/v1/orders/{order_id}/cancel", "/v1/shipments/{shipment_id}/events",
        "/v1/returns", "/v1/returns/{rma}", "/v1/returns/{rma}/events",
    }


STORE_SLA = {"accept_minutes": 30, "pick_minutes": 120, "pickup_days": 5,
             "business_hours": {"timezone": "America/Chicago",
                                "days": {"mon": {"opens": "09:00", "closes": "21:00"},
                                         "sat": {"opens": "10:00", "closes": "18:00"}}}}


async def test_each_kind_keeps_what_its_protocol_needs(http: httpx.AsyncClient) -> None:
    bodies = {
        "DC-WEB": a_node_body(hand_off={"kind": "webhook", "url": "https://wms.example/hooks",
                                        "secret_ref": "wms-chi"}, daily_capacity=5000),
        "DC-PULL": a_node_body(hand_off={"kind": "pull"}),
        "STORE-CHI": a_node_body(kind="store", capabilities=["ship", "pickup", "curbside", "returns"], sla=STORE_SLA,
                                 daily_capacity=40),
        "VENDOR-1": a_node_body(kind="dropship", sla={"accept_minutes": 240},
                                provider={"provider": "omniroute-po", "base_url": "https://vendor.example/po",
                                          "credentials_ref": "vendor-1"}),
        "3PL-TN": a_node_body(kind="3pl", provider={"provider": "shipbob", "credentials_ref": "shipbob",
                                                    "account": "channel-42"}),
    }
    for node_id, body in bodies.items():
        put = await http.put(f"/v1/nodes/{node_id}", json=body)
        assert put.status_code == 200, (node_id, put.json())
        got = (await http.get(f"/v1/nodes/{node_id}")).json()
        for field in ("hand_off", "sla", "daily_capacity", "provider"):
            if field in body:
                assert got[field] == put.json()[field] and got[field] is not None, (node_id, field)
    store = (await http.get("/v1/nodes/STORE-CHI")).json()
    assert store["sla"]["business_hours"]["days"]["sat"] == {"opens": "10:00:00", "closes": "18:00:00"}
    assert "secret" not in str((await http.get("/v1/nodes/DC-WEB")).json()["hand_off"]).replace("secret_ref", "")


@pytest.mark.parametrize(("body", "loc_end", "words"), [
    (a_node_body(hand_off={"kind": "webhook", "url": "https://wms.example"}), "hand_off", "secret_ref"),
    (a_node_body(hand_off={"kind": "webhook", "url": "ftp://wms.example", "secret_ref": "x"}), "url", "pattern"),
    (a_node_body(hand_off={"kind": "webhook", "url": "https://wms.example", "secret": "inline"}), "secret",
     "extra"),
    (a_node_body(kind="store", hand_off={"kind": "pull"}), None, "hand_off"),
    (a_node_body(kind="dropship"), None, "provider"),
    (a_node_body(capabilities=["ship", "pickup"]), None, "only a store"),
    (a_node_body(kind="store", capabilities=["ship", "curbside"]), None, "pickup"),
    (a_node_body(kind="store", sla={"accept_minutes": 0}), "accept_minutes", "greater"),
    (a_node_body(kind="store", sla={"business_hours": {"timezone": "America/Chicago",
                                                       "days": {"mon": {"opens": "18:00", "closes": "09:00"}}}}),
     "mon", "opens"),
    (a_node_body(kind="store", sla={"business_hours": {"timezone": "America/Chicago", "days": {"xyz": {
        "opens": "09:00", "closes": "18:00"}}}}), "xyz", "mon"),
    (a_node_body(sla={"business_hours": {"timezone": "UTC", "days": {"mon": {"opens": "09:00", "closes": "18:00"}}}}),
     None, "business_hours"),
    (a_node_body(daily_capacity=0), "daily_capacity", "greater"),
    (a_node_body(kind="store", sla={"pickup_minutes": 2, "pickup_days": 1}), "sla", "`pickup_minutes` and"),
    (a_node_body(kind="store", sla={"pickup_minutes": 0}), "pickup_minutes", "greater"),
    (a_node_body(kind="3pl", provider={"provider": "shipbob", "credentials_ref": "shipbob", "api_key": "inline"}),
     "api_key", "extra"),
])
async def test_a_node_setting_its_kind_cannot_use_is_a_422_naming_it(
        http: httpx.AsyncClient, body: dict[str, object], loc_end: str | None, words: str) -> None:
    response = await http.put("/v1/nodes/N-1", json=body)

    assert response.status_code == 422, response.json()
    [error] = response.json()["detail"]
    if loc_end is not None:
        assert loc_end in error["loc"], error
    assert words.lower() in error["msg"].lower(), error
    assert (await http.get("/v1/nodes/N-1")).status_code == 404, "nothing is stored"
