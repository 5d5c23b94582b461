"""The sourcing configuration (cost model, rules, catalogue) and the delivery promise over the gateway.

The promise cases are checked by hand against the demo cost model (omniroute/demo/data/cost_model.yaml):
a Chicago DC (ZIP 60601, cut-off 15:00 Chicago time, ships Monday to Friday) is 710 miles from
ZIP 10001 in New York, USPS zone 5 (601-1000 miles). In zone 5 UPS Ground takes 3 business days,
2nd Day Air 2, Next Day Air 1 (and Next Day Air delivers on Saturdays). A T-shirt weighs 0.375 lb and
measures 10x8x1 in (80 in3 / 139 = 0.58 lb dimensional), so one bills as 1 lb: 1210, 2690 and 5700
cents at zone 5, plus the DC's handling of 150 per order and 35 per unit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from importlib import resources
from typing import Any

import httpx
import pytest

from models.costs import LookAheadSettings, NodeSkuPrice, ShadowPriceSet
from omniroute.files.cost_files import demo_catalog_path, demo_cost_model_path, load_catalog, load_cost_model
from store import Store
from tests.fixtures.gateway import (
    CHICAGO,
    MONDAY_10AM,
    YAML,
    a_node_body,
    demo_cost_model_yaml,
    field_locs,
    sourcing_gateway,
    unreachable_temporal,
)

FRIDAY_10AM = datetime(2025, 6, 6, 10, 0, tzinfo=CHICAGO)
FRIDAY_4PM = datetime(2025, 6, 6, 16, 0, tzinfo=CHICAGO)
TEE = "TEE-CREW-BLK"
HOODIE = "HOODIE-GRY"


def demo_catalog_items() -> list[dict[str, Any]]:
    return [item.model_dump() for item in load_catalog(demo_catalog_path()).skus.values()]


async def configured(http: httpx.AsyncClient) -> None:
    """The demo cost model and catalogue, a Chicago DC holding 9 tees and 4 hoodies."""
    assert (await http.put("/v1/sourcing/cost-model", content=demo_cost_model_yaml(), headers=YAML)).status_code == 200
    assert (await http.put("/v1/catalog/skus", json={"items": demo_catalog_items()})).status_code == 200
    await http.put("/v1/nodes/dc-chi", json=a_node_body())
    await http.put(f"/v1/inventory/dc-chi/{TEE}", json={"on_hand": 9})
    await http.put(f"/v1/inventory/dc-chi/{HOODIE}", json={"on_hand": 4})


@pytest.fixture
async def http(store: Store) -> AsyncIterator[httpx.AsyncClient]:
    async with sourcing_gateway(store, await unreachable_temporal(), MONDAY_10AM) as client:
        yield client


def by_level(body: dict[str, Any]) -> dict[str, tuple[str, str, int, list[str]]]:
    return {o["level"]: (o["delivery_date"], o["service"], o["price_cents"], o["node_ids"]) for o in body["options"]}


# ---- cost model ---------------------------------------------------------------------------------


async def test_a_cost_model_put_as_yaml_then_as_json_is_read_back_with_its_version(http: httpx.AsyncClient) -> None:
    assert (await http.get("/v1/sourcing/cost-model")).status_code == 404

    first = await http.put("/v1/sourcing/cost-model", content=demo_cost_model_yaml(), headers=YAML)
    model = first.json()["cost_model"]
    second = await http.put("/v1/sourcing/cost-model", json={**model, "split_penalty_cents": 275})
    got = await http.get("/v1/sourcing/cost-model")

    assert (first.status_code, first.json()["version"], first.headers["etag"]) == (200, 1, '"1"')
    assert [s["name"] for s in model["services"]] == ["ups-ground", "ups-2nd-day-air", "ups-next-day-air"]
    assert (second.status_code, second.json()["version"]) == (200, 2)
    assert (got.json()["version"], got.headers["etag"]) == (2, '"2"')
    assert got.json()["cost_model"] == {**model, "split_penalty_cents": 275}


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        ({"split_penalty_cents": -5}, ["body", "split_penalty_cents"]),
        ({"colour": "blue"}, ["body", "colour"]),
        ({"node_defaults": {"dc": {"cutoff": "25:00"}}}, ["body", "node_defaults", "dc", "cutoff"]),
        ({"node_defaults": {"dc": {"timezone": "Mars/Olympus"}}}, ["body", "node_defaults", "dc", "timezone"]),
    ],
)
async def test_a_bad_cost_model_is_a_422_naming_the_field_and_nothing_is_stored(
    http: httpx.AsyncClient, change: dict[str, Any], loc: list[str | int]
) -> None:
    model = (await http.put("/v1/sourcing/cost-model", content=demo_cost_model_yaml(), headers=YAML)).json()

    response = await http.put("/v1/sourcing/cost-model", json={**model["cost_model"], **change})

    assert response.status_code == 422
    assert field_locs(response) == [loc]
    assert (await http.get("/v1/sourcing/cost-model")).json()["version"] == 1


async def test_a_bad_rate_card_in_yaml_is_named_by_service_index(http: httpx.AsyncClient) -> None:
    text = demo_cost_model_yaml().replace("level: two_day", "level: overnight")

    response = await http.put("/v1/sourcing/cost-model", content=text, headers=YAML)

    assert response.status_code == 422
    assert field_locs(response) == [["body", "services", 1, "level"]]
    assert response.json()["detail"][0]["input"] == "overnight"
    assert (await http.get("/v1/sourcing/cost-model")).status_code == 404


@pytest.mark.parametrize(
    ("content", "headers", "status", "words"),
    [
        ("services: [a, b", YAML, 422, "not valid YAML at line 1"),
        ('{"services": [}', {"content-type": "application/json"}, 422, "not valid JSON at line 1"),
        ("", YAML, 422, "empty document"),
        ("services: []", {"content-type": "text/plain"}, 415, "application/yaml"),
    ],
)
async def test_a_document_that_cannot_be_read_is_refused_saying_why(
    http: httpx.AsyncClient, content: str, headers: dict[str, str], status: int, words: str
) -> None:
    response = await http.put("/v1/sourcing/cost-model", content=content, headers=headers)

    assert response.status_code == status
    assert words in str(response.json()["detail"])


# ---- rules --------------------------------------------------------------------------------------


async def test_rules_put_as_yaml_are_read_back_with_their_version(http: httpx.AsyncClient) -> None:
    text = (resources.files("omniroute.demo") / "data" / "rules.yaml").read_text(encoding="utf-8")
    assert (await http.get("/v1/sourcing/rules")).status_code == 404

    put = await http.put("/v1/sourcing/rules", content=text, headers=YAML)
    got = await http.get("/v1/sourcing/rules")

    assert (put.status_code, put.json()["version"], got.headers["etag"]) == (200, 1, '"1"')
    ids = [rule["id"] for rule in got.json()["rules"]["rules"]]
    assert ids[0] == "hold-high-value"
    assert ids == [rule["id"] for rule in put.json()["rules"]["rules"]]


async def test_a_bad_rule_is_a_422_naming_its_path_into_the_document(http: httpx.AsyncClient) -> None:
    text = """
version: 1
rules:
  - id: big
    description: big web orders
    when:
      all:
        - channel_in: [web]
        - order_total_over: {amount: -1, currency: USD}
    then:
      - hold: look at it
"""
    response = await http.put("/v1/sourcing/rules", content=text, headers=YAML)

    assert response.status_code == 422
    assert field_locs(response) == [["body", "rules", 0, "when", "all", 1, "order_total_over", "amount"]]
    assert (await http.get("/v1/sourcing/rules")).status_code == 404


async def test_two_rules_with_one_id_are_a_422_naming_rules(http: httpx.AsyncClient) -> None:
    rule = {"id": "same", "description": "d", "when": {"always": True}, "then": [{"hold": "h"}]}

    response = await http.put("/v1/sourcing/rules", json={"version": 1, "rules": [rule, rule]})

    assert response.status_code == 422
    assert field_locs(response) == [["body", "rules"]]
    assert "rules[0] and rules[1]" in response.json()["detail"][0]["msg"]


# ---- catalogue ----------------------------------------------------------------------------------


async def test_skus_put_in_a_batch_are_read_back_one_by_one(http: httpx.AsyncClient) -> None:
    items = demo_catalog_items()

    put = await http.put("/v1/catalog/skus", json={"items": items})
    got = await http.get(f"/v1/catalog/skus/{TEE}")

    assert put.json() == {"written": len(items)}
    assert got.json() == {"sku": TEE, "weight_lb": 0.375, "length_in": 10.0, "width_in": 8.0, "height_in": 1.0,
                          "tags": ["apparel"]}
    assert (await http.get("/v1/catalog/skus/NOT-A-SKU")).status_code == 404


@pytest.mark.parametrize(
    ("second", "loc"),
    [
        ({"sku": "MUG-1", "weight_lb": 2}, ["body", "items", 2, "sku"]),
        ({"sku": "BOX-9", "weight_lb": 0}, ["body", "items", 2, "weight_lb"]),
        ({"sku": "BOX-9", "weight_lb": 1, "height_in": -1}, ["body", "items", 2, "height_in"]),
        ({"sku": "bad sku", "weight_lb": 1}, ["body", "items", 2, "sku"]),
    ],
)
async def test_a_bad_sku_fails_the_whole_batch_naming_its_index(
    http: httpx.AsyncClient, second: dict[str, Any], loc: list[str | int]
) -> None:
    items = [{"sku": "MUG-1", "weight_lb": 1}, {"sku": "TEE-1", "weight_lb": 0.5}, second]

    response = await http.put("/v1/catalog/skus", json={"items": items})

    assert response.status_code == 422
    assert field_locs(response) == [loc]
    assert (await http.get("/v1/catalog/skus/MUG-1")).status_code == 404


async def test_a_batch_of_more_than_5000_skus_is_a_422_naming_items(http: httpx.AsyncClient) -> None:
    items = [{"sku": f"SKU-{n}", "weight_lb": 1} for n in range(5001)]

    response = await http.put("/v1/catalog/skus", json={"items": items})

    assert response.status_code == 422
    assert field_locs(response) == [["body", "items"]]


# ---- promise ------------------------------------------------------------------------------------


async def test_one_tee_from_chicago_to_new_york_on_a_monday_morning(http: httpx.AsyncClient) -> None:
    await configured(http)

    response = await http.get("/v1/promise", params={"postal_code": "10001", "item": f"{TEE}:1"})

    assert response.status_code == 200
    body = response.json()
    assert (body["postal_code"], body["city"], body["region"], body["currency"]) == ("10001", "New York", "NY", "USD")
    assert by_level(body) == {
        "standard": ("2025-06-05", "ups-ground", 1210 + 185, ["dc-chi"]),
        "two_day": ("2025-06-04", "ups-2nd-day-air", 2690 + 185, ["dc-chi"]),
        "next_day": ("2025-06-03", "ups-next-day-air", 5700 + 185, ["dc-chi"]),
    }
    assert body["unavailable"] == []
    shipment = body["options"][0]["shipments"][0]
    assert (shipment["zone"], shipment["billable_weight_lb"], shipment["ship_date"]) == (5, 1, "2025-06-02")


async def test_after_the_friday_cut_off_the_dc_ships_on_monday(store: Store) -> None:
    async with sourcing_gateway(store, await unreachable_temporal(), FRIDAY_4PM) as http:
        await configured(http)
        body = (await http.get("/v1/promise", params={"postal_code": "10001", "item": TEE})).json()

    assert {level: option[0] for level, option in by_level(body).items()} == {
        "standard": "2025-06-12",
        "two_day": "2025-06-11",
        "next_day": "2025-06-10",
    }


async def test_next_day_air_shipped_on_friday_arrives_on_saturday(store: Store) -> None:
    async with sourcing_gateway(store, await unreachable_temporal(), FRIDAY_10AM) as http:
        await configured(http)
        body = (await http.get("/v1/promise", params={"postal_code": "10001", "item": TEE})).json()

    assert {level: option[0] for level, option in by_level(body).items()} == {
        "standard": "2025-06-11",
        "two_day": "2025-06-10",
        "next_day": "2025-06-07",
    }


async def test_at_the_real_time_a_faster_level_is_never_later_than_a_slower_one(store: Store) -> None:
    async with sourcing_gateway(store, await unreachable_temporal()) as http:
        await configured(http)
        body = (await http.get("/v1/promise", params={"postal_code": "94103", "item": [f"{TEE}:2", HOODIE]})).json()

    dates = {level: date.fromisoformat(option[0]) for level, option in by_level(body).items()}
    assert set(dates) == {"standard", "two_day", "next_day"}
    assert dates["next_day"] <= dates["two_day"] <= dates["standard"]
    assert datetime.fromisoformat(body["quoted_at"]).date() <= dates["next_day"]
    assert abs((datetime.fromisoformat(body["quoted_at"]) - datetime.now(UTC)).total_seconds()) < 3600


async def test_a_level_asked_for_is_the_only_one_answered(http: httpx.AsyncClient) -> None:
    await configured(http)

    body = (await http.get("/v1/promise", params={"postal_code": "10001", "item": TEE, "level": "two_day"})).json()

    assert by_level(body) == {"two_day": ("2025-06-04", "ups-2nd-day-air", 2875, ["dc-chi"])}


async def test_a_cart_nobody_holds_enough_of_gets_no_option(http: httpx.AsyncClient) -> None:
    await configured(http)

    body = (await http.get("/v1/promise", params={"postal_code": "10001", "item": f"{HOODIE}:5"})).json()

    assert body["options"] == []
    assert body["unavailable"] == ["standard", "two_day", "next_day"]


async def test_a_cart_split_over_two_nodes_is_promised_by_its_later_parcel(http: httpx.AsyncClient) -> None:
    await configured(http)
    await http.put("/v1/nodes/store-nyc", json=a_node_body(name="NYC", kind="store", postal_code="10001"))
    await http.put("/v1/inventory/store-nyc/MUG-CERAMIC", json={"on_hand": 3})

    body = (await http.get("/v1/promise", params={"postal_code": "10003", "item": [TEE, "MUG-CERAMIC"]})).json()

    standard = next(option for option in body["options"] if option["level"] == "standard")
    assert sorted(standard["node_ids"]) == ["dc-chi", "store-nyc"]
    # Ground from the store (zone 1, priced as zone 2) arrives Tuesday; from Chicago (zone 5) Thursday.
    assert standard["delivery_date"] == "2025-06-05"
    assert sorted(s["delivery_date"] for s in standard["shipments"]) == ["2025-06-03", "2025-06-05"]


async def test_a_channel_is_promised_only_what_it_sees(http: httpx.AsyncClient) -> None:
    await configured(http)
    await http.put("/v1/nodes/store-nyc", json=a_node_body(name="NYC", kind="store", postal_code="10001"))
    await http.put("/v1/inventory/store-nyc/MUG-CERAMIC", json={"on_hand": 3})
    await http.put("/v1/channels/marketplace/allocation", json={"hidden_node_kinds": ["store"]})

    web = (await http.get("/v1/promise", params={"postal_code": "10003", "item": "MUG-CERAMIC"})).json()
    marketplace = (await http.get(
        "/v1/promise", params={"postal_code": "10003", "item": "MUG-CERAMIC", "channel": "marketplace"})).json()

    assert {option["node_ids"][0] for option in web["options"]} == {"store-nyc"}
    assert (marketplace["channel"], marketplace["options"]) == ("marketplace", [])


async def test_a_promise_without_a_cost_model_is_a_409_saying_so(http: httpx.AsyncClient) -> None:
    response = await http.get("/v1/promise", params={"postal_code": "10001", "item": TEE})

    assert response.status_code == 409
    assert "no cost model is configured" in response.json()["detail"]


@pytest.mark.parametrize(
    ("params", "loc"),
    [
        ({"postal_code": "00000", "item": TEE}, ["query", "postal_code"]),
        ({"postal_code": "10001", "item": [TEE, f"{TEE}:0"]}, ["query", "item", 1]),
        ({"postal_code": "10001", "item": [f"{TEE}:two"]}, ["query", "item", 0]),
        ({"postal_code": "10001", "item": ["no such sku:1"]}, ["query", "item", 0]),
        ({"postal_code": "10001"}, ["query", "item"]),
        ({"postal_code": "10001", "item": TEE, "level": "overnight"}, ["query", "level"]),
    ],
)
async def test_a_bad_promise_question_is_a_422_naming_the_parameter(
    http: httpx.AsyncClient, params: dict[str, Any], loc: list[str | int]
) -> None:
    await configured(http)

    response = await http.get("/v1/promise", params=params)

    assert response.status_code == 422
    assert field_locs(response) == [loc]


async def test_the_openapi_document_describes_json_and_yaml_bodies(http: httpx.AsyncClient) -> None:
    spec = (await http.get("/openapi.json")).json()

    body = spec["paths"]["/v1/sourcing/cost-model"]["put"]["requestBody"]["content"]
    assert set(body) == {"application/json", "application/yaml"}
    assert body["application/json"]["schema"]["$ref"].rsplit("/", 1)[1] in spec["components"]["schemas"]
    rules = spec["paths"]["/v1/sourcing/rules"]["put"]["requestBody"]["content"]["application/json"]
    assert rules["schema"]["$ref"].rsplit("/", 1)[1] in spec["components"]["schemas"]
    assert "409" in spec["paths"]["/v1/promise"]["get"]["responses"]


async def test_shadow_prices_are_listed_dearest_first_filtered_and_marked_in_use_while_fresh(store: Store) -> None:
    async with sourcing_gateway(store, await unreachable_temporal(), MONDAY_10AM) as http:
        assert (await http.get("/v1/sourcing/shadow-prices")).status_code == 404
        model = load_cost_model(demo_cost_model_path())
        store.set_cost_model(model.model_copy(update={"look_ahead": LookAheadSettings(max_age_minutes=60)}))
        store.set_shadow_prices(ShadowPriceSet(
            computed_at=MONDAY_10AM.astimezone(UTC), orders_seen=40, forecast_units=12.5, regions=3, solve_ms=4.0,
            prices=[NodeSkuPrice(node_id="dc-chi", sku=TEE, cents=80.0),
                    NodeSkuPrice(node_id="dc-chi", sku=HOODIE, cents=310.5),
                    NodeSkuPrice(node_id="dc-nj", sku=TEE, cents=12.0)]))

        body = (await http.get("/v1/sourcing/shadow-prices")).json()
        only_tee = (await http.get("/v1/sourcing/shadow-prices", params={"sku": TEE, "limit": 1})).json()

    assert body["version"] == 1 and body["in_use"] is True and body["refresh"]["orders_seen"] == 40
    assert [(p["node_id"], p["sku"]) for p in body["refresh"]["prices"]] == [
        ("dc-chi", HOODIE), ("dc-chi", TEE), ("dc-nj", TEE)]
    assert [(p["node_id"], p["cents"]) for p in only_tee["refresh"]["prices"]] == [("dc-chi", 80.0)]
    two_hours_on = MONDAY_10AM.replace(hour=12, minute=1)
    async with sourcing_gateway(store, await unreachable_temporal(), two_hours_on) as http:
        stale = (await http.get("/v1/sourcing/shadow-prices")).json()
    assert stale["in_use"] is False, "older than max_age_minutes: orders no longer plan with them"
