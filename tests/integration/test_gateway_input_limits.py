"""Bad input is a 4xx naming the field, never a 500 and never let through: numbers past what the DB
and the totals hold, unknown currencies, control characters, unknown fields and oversized bodies.

The gateway runs with a Temporal client nobody answers: a body that passes validation reaches the
order route and answers 503, which is how these tests tell "accepted" from "refused".
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import yaml

from gateway.errors import QUOTED_INPUT_CHARS
from models.catalog import MAX_DIMENSION_IN, MAX_WEIGHT_LB
from models.limits import MAX_MINOR_UNITS, MAX_ORDER_TOTAL, MAX_RATE_CENTS, MAX_UNITS
from store import Store
from tests.fixtures.gateway import (
    YAML,
    a_node_body,
    demo_cost_model_yaml,
    field_locs,
    gateway_for,
    unreachable_temporal,
)
from tests.fixtures.orders import an_order

Json = dict[str, Any]
TEN_MB = 10 * 1024 * 1024


@pytest.fixture
async def http(sqlite_store: Store) -> AsyncIterator[httpx.AsyncClient]:
    async with gateway_for(sqlite_store, await unreachable_temporal()) as client:
        assert (await client.put("/v1/nodes/dc-chi", json=a_node_body())).status_code == 200
        yield client


def an_order_body(**changes: Any) -> Json:
    return {**an_order(("TEE-CREW-BLK", 1)).model_dump(mode="json"), **changes}


def a_line(quantity: int, unit_price: int, sku: str = "TEE-CREW-BLK") -> Json:
    return {"sku": sku, "quantity": quantity, "unit_price": unit_price}


async def test_a_valid_order_passes_validation_and_meets_the_missing_temporal(http: httpx.AsyncClient) -> None:
    response = await http.post("/v1/orders", json=an_order_body())
    assert response.status_code == 503, response.text


async def test_a_unit_price_of_two_to_the_63_is_refused_naming_it(http: httpx.AsyncClient) -> None:
    response = await http.post("/v1/orders", json=an_order_body(lines=[a_line(1, 2**63)]))
    assert response.status_code == 422
    assert field_locs(response) == [["body", "lines", 0, "unit_price"]]


async def test_two_to_the_62_times_four_units_is_refused_naming_the_price(http: httpx.AsyncClient) -> None:
    response = await http.post("/v1/orders", json=an_order_body(lines=[a_line(4, 2**62)]))
    assert response.status_code == 422
    assert field_locs(response) == [["body", "lines", 0, "unit_price"]]


async def test_an_order_total_past_the_limit_is_refused_naming_the_lines(http: httpx.AsyncClient) -> None:
    lines = [a_line(4, MAX_MINOR_UNITS, "TEE-A"), a_line(1, MAX_MINOR_UNITS, "TEE-B")]
    response = await http.post("/v1/orders", json=an_order_body(lines=lines))
    assert response.status_code == 422
    assert field_locs(response) == [["body", "lines"]]
    assert str(MAX_ORDER_TOTAL) in response.json()["detail"][0]["msg"]


async def test_an_order_at_the_total_limit_is_accepted(http: httpx.AsyncClient) -> None:
    response = await http.post("/v1/orders", json=an_order_body(lines=[a_line(1, MAX_ORDER_TOTAL)]))
    assert response.status_code == 503, response.text


async def test_an_unknown_currency_is_refused_naming_it(http: httpx.AsyncClient) -> None:
    response = await http.post("/v1/orders", json=an_order_body(currency="XYZ"))
    assert response.status_code == 422
    assert field_locs(response) == [["body", "currency"]]
    assert "ISO 4217" in response.json()["detail"][0]["msg"]


async def test_a_nul_in_a_name_is_refused_naming_the_field(http: httpx.AsyncClient) -> None:
    body = an_order_body()
    body["customer"] = {**body["customer"], "name": "Ada\x00Buyer"}
    response = await http.post("/v1/orders", json=body)
    assert response.status_code == 422
    assert field_locs(response) == [["body", "customer", "name"]]


async def test_a_control_character_in_a_node_name_is_refused(http: httpx.AsyncClient) -> None:
    response = await http.put("/v1/nodes/dc-nyc", json=a_node_body(name="New York\x1bDC"))
    assert response.status_code == 422
    assert field_locs(response) == [["body", "name"]]


async def test_an_unknown_field_is_refused_rather_than_dropped(http: httpx.AsyncClient) -> None:
    response = await http.post("/v1/orders", json=an_order_body(shiping_method="Express"))
    assert response.status_code == 422
    assert field_locs(response) == [["body", "shiping_method"]]


async def test_an_on_hand_of_two_to_the_63_is_refused_naming_it(http: httpx.AsyncClient) -> None:
    response = await http.put("/v1/inventory/dc-chi/TEE-CREW-BLK", json={"on_hand": 2**63})
    assert response.status_code == 422
    assert field_locs(response) == [["body", "on_hand"]]


async def test_on_hand_at_the_limit_is_stored(http: httpx.AsyncClient) -> None:
    response = await http.put("/v1/inventory/dc-chi/TEE-CREW-BLK", json={"on_hand": MAX_UNITS})
    assert response.status_code == 200, response.text
    assert response.json()["on_hand"] == MAX_UNITS


async def test_a_thirty_digit_safety_stock_is_refused_naming_it(http: httpx.AsyncClient) -> None:
    response = await http.put("/v1/inventory/dc-chi/TEE-CREW-BLK", json={"on_hand": 5, "safety_stock": 10**29})
    assert response.status_code == 422
    assert field_locs(response) == [["body", "safety_stock"]]


async def test_a_thirty_digit_default_safety_stock_is_refused_naming_it(http: httpx.AsyncClient) -> None:
    response = await http.put("/v1/safety-stock/defaults", json={"by_kind": {"dc": 10**29}})
    assert response.status_code == 422
    assert field_locs(response) == [["body", "by_kind", "dc"]]


async def test_a_delta_past_the_limit_is_refused_naming_the_item(http: httpx.AsyncClient) -> None:
    item = {"node_id": "dc-chi", "sku": "TEE-CREW-BLK", "delta": 2**63, "kind": "receipt", "source": "wms"}
    response = await http.post("/v1/inventory:batch", json={"items": [item]})
    assert response.status_code == 422
    assert field_locs(response) == [["body", "items", 0, "delta"]]


async def test_a_ten_megabyte_body_of_unknown_fields_is_refused_with_413(http: httpx.AsyncClient) -> None:
    padding = {f"field_{i}": "x" * 1000 for i in range(TEN_MB // 1000)}
    response = await http.post("/v1/orders", json=an_order_body(**padding))
    assert response.status_code == 413
    assert len(response.content) < 200


async def test_a_body_streamed_without_a_length_is_cut_off_at_the_limit(http: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"name": "'
        for _ in range(TEN_MB // 65536):
            yield b"x" * 65536
        yield b'"}'

    response = await http.put("/v1/nodes/dc-big", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert len(response.content) < 200


async def test_a_ten_megabyte_name_is_refused_with_a_short_answer(http: httpx.AsyncClient) -> None:
    response = await http.put("/v1/nodes/dc-big", json=a_node_body(name="x" * TEN_MB))
    assert response.status_code == 413
    assert len(response.content) < 200


async def test_a_long_name_under_the_body_limit_is_quoted_by_a_short_prefix(http: httpx.AsyncClient) -> None:
    response = await http.put("/v1/nodes/dc-big", json=a_node_body(name="x" * 500_000))
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "name"]
    assert error["input"] == "x" * QUOTED_INPUT_CHARS + "..."
    assert len(response.content) < 1000


async def test_a_missing_field_quotes_a_large_body_by_a_prefix(http: httpx.AsyncClient) -> None:
    body = an_order_body(attributes={f"a{i}": "y" * 400 for i in range(50)})
    del body["currency"]
    response = await http.post("/v1/orders", json=body)
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "currency"]
    assert error["type"] == "missing"
    assert error["input"].startswith('{"channel":"web","channel_order_id":')
    assert len(error["input"]) == QUOTED_INPUT_CHARS + len("...")


async def test_deltas_that_would_take_on_hand_past_the_limit_are_refused_naming_the_item(
    http: httpx.AsyncClient,
) -> None:
    def receipt(units: int) -> Json:
        return {"node_id": "dc-chi", "sku": "TEE-CREW-BLK", "delta": units, "kind": "receipt", "source": "wms"}

    assert (await http.post("/v1/inventory:batch", json={"items": [receipt(MAX_UNITS)]})).status_code == 200
    response = await http.post("/v1/inventory:batch", json={"items": [receipt(1)]})
    assert response.status_code == 422
    assert field_locs(response) == [["body", "items", 0, "delta"]]


async def test_a_yaml_infinity_for_the_cost_model_is_a_422_not_a_500(http: httpx.AsyncClient) -> None:
    response = await http.put("/v1/sourcing/cost-model", content=".inf", headers=YAML)
    assert response.status_code == 422
    assert response.json()["detail"][0]["input"] == "inf"


async def test_an_infinite_distance_in_the_cost_model_is_refused_naming_it(http: httpx.AsyncClient) -> None:
    document = yaml.safe_load(demo_cost_model_yaml())
    document["zone_chart"] = [{"max_miles": float("inf"), "zone": 1}]
    response = await http.put("/v1/sourcing/cost-model", content=yaml.safe_dump(document), headers=YAML)
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert (error["loc"], error["type"]) == (["body", "zone_chart", 0, "max_miles"], "finite_number")


async def test_a_promise_at_the_largest_prices_weights_and_quantities_is_answered(http: httpx.AsyncClient) -> None:
    document = yaml.safe_load(demo_cost_model_yaml())
    for price in ("unfilled_penalty_cents", "split_penalty_cents"):
        document[price] = MAX_RATE_CENTS
    for service in document["services"]:
        service["rates"] = {weight: dict.fromkeys(zones, MAX_RATE_CENTS) for weight, zones in service["rates"].items()}
        service["extra_lb_cents"] = MAX_RATE_CENTS
    assert (await http.put("/v1/sourcing/cost-model", json=document)).status_code == 200
    heaviest = {"sku": "TEE-CREW-BLK", "weight_lb": MAX_WEIGHT_LB, "length_in": MAX_DIMENSION_IN,
                "width_in": MAX_DIMENSION_IN, "height_in": MAX_DIMENSION_IN}
    assert (await http.put("/v1/catalog/skus", json={"items": [heaviest]})).status_code == 200
    assert (await http.put("/v1/inventory/dc-chi/TEE-CREW-BLK", json={"on_hand": MAX_UNITS})).status_code == 200

    response = await http.get("/v1/promise", params={"postal_code": "10001", "item": "TEE-CREW-BLK:10000"})
    assert response.status_code == 200, response.text
    assert response.json()["options"]


@pytest.mark.parametrize(
    "path", ["/v1/orders/{id}", "/v1/returns/{id}"], ids=["order", "return"]
)
async def test_a_path_id_longer_than_any_id_is_refused_without_echoing_it(http: httpx.AsyncClient, path: str) -> None:
    response = await http.get(path.format(id="x" * 5000))
    assert response.status_code == 422
    assert len(response.content) < 1000
