"""GET /v1/orders: the search through the gateway, with keys of each role, on SQLite and PostgreSQL (the
store's own filters are covered in test_store_order_search.py). No Temporal: the search reads the app DB."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from models.keys import KeyCreate, Role
from models.order import HoldReason, OrderStatus
from store import Store
from tests.fixtures.gateway import field_locs, gateway_app, http_to, unreachable_temporal
from tests.fixtures.order_search import T0, Placed, record_all

ORDERS = [
    Placed("web-1", 0, skus=("MUG-1",)),
    Placed("web-2", 1, skus=("MUG-1", "TEE-1"), status=OrderStatus.HELD, email="bob@example.com",
           hold_reason=HoldReason.PAYMENT),
    Placed("pos-1", 1, skus=("MUG-1",), nodes=("dc-a",), status=OrderStatus.FULFILLING),
    Placed("pos-2", 2, skus=("CAP-1",), nodes=("dc-a",), backordered=True),
    Placed("amazon-1", 3, skus=("TEE-1",)),
]


@pytest.fixture
async def app_on(store: Store) -> AsyncIterator[Any]:
    record_all(store, ORDERS)
    yield gateway_app(store, await unreachable_temporal())


def token(store: Store, role: Role, channels: list[str] | None = None) -> str:
    return store.create_key(KeyCreate(name=f"{role.value} key", role=role, channels=channels or [])).token


async def listed(http: httpx.AsyncClient, **params: Any) -> list[str]:
    response = await http.get("/v1/orders", params=params)
    assert response.status_code == 200, response.text
    return [item["order_id"] for item in response.json()["items"]]


async def test_an_operator_searches_every_channel_by_each_filter(app_on: Any, store: Store) -> None:
    async with http_to(app_on, token(store, Role.OPERATOR)) as http:
        assert await listed(http) == ["amazon-1", "pos-2", "web-2", "pos-1", "web-1"]
        assert await listed(http, status="fulfilling") == ["pos-1"]
        assert await listed(http, channel="web") == ["web-2", "web-1"]
        assert await listed(http, node_id="dc-a") == ["pos-2", "pos-1"]
        assert await listed(http, sku="TEE-1") == ["amazon-1", "web-2"]
        assert await listed(http, customer_email="BOB@example.com") == ["web-2"]
        assert await listed(http, created_from=T0.isoformat(), created_to="2025-06-02T15:02:00Z") == [
            "web-2", "pos-1", "web-1"]
        assert await listed(http, held="true") == ["web-2"]
        assert await listed(http, hold_reason="payment") == ["web-2"]
        assert await listed(http, hold_reason="carrier") == []
        assert await listed(http, backordered="true", channel="pos") == ["pos-2"]


async def test_pages_follow_next_cursor_to_the_end(app_on: Any) -> None:
    async with http_to(app_on) as http:
        seen: list[str] = []
        params: dict[str, Any] = {"limit": 2}
        for _ in range(5):
            body = (await http.get("/v1/orders", params=params)).json()
            seen += [item["order_id"] for item in body["items"]]
            if body["next_cursor"] is None:
                break
            params["cursor"] = body["next_cursor"]

    assert seen == ["amazon-1", "pos-2", "web-2", "pos-1", "web-1"]


async def test_a_summary_has_no_customer_data_even_when_searched_by_e_mail(app_on: Any) -> None:
    async with http_to(app_on) as http:
        response = await http.get("/v1/orders", params={"customer_email": "bob@example.com"})

    (summary,) = response.json()["items"]
    assert summary == {
        "order_id": "web-2", "channel": "web", "channel_order_id": "2", "status": "held", "currency": "USD",
        "total": {"amount": 4000, "currency": "USD"}, "created_at": "2025-06-02T15:01:00Z",
        "updated_at": summary["updated_at"], "has_backorders": False, "node_ids": [], "hold_reason": "payment",
    }
    assert "bob" not in response.text


async def test_a_channel_key_sees_only_its_own_channels(app_on: Any, store: Store) -> None:
    async with http_to(app_on, token(store, Role.CHANNEL, ["web"])) as web, \
            http_to(app_on, token(store, Role.CHANNEL, ["web", "pos"])) as web_and_pos:
        assert await listed(web) == ["web-2", "web-1"]
        assert await listed(web, sku="MUG-1") == ["web-2", "web-1"]
        assert await listed(web, channel="web", status="held") == ["web-2"]
        assert await listed(web, node_id="dc-a") == []
        assert await listed(web_and_pos) == ["pos-2", "web-2", "pos-1", "web-1"]
        assert await listed(web_and_pos, channel="pos") == ["pos-2", "pos-1"]

        other = await web.get("/v1/orders", params={"channel": "pos"})
        assert other.status_code == 403
        assert "pos" in other.json()["detail"]


async def test_a_node_key_may_not_search_orders(app_on: Any, store: Store) -> None:
    node_key = store.create_key(KeyCreate(name="dc", role=Role.NODE, nodes=["dc-a"])).token
    async with http_to(app_on, node_key) as http:
        assert (await http.get("/v1/orders")).status_code == 403


@pytest.mark.parametrize(("params", "field"), [
    ({"cursor": "not-a-cursor"}, "cursor"),
    ({"cursor": "MjAyNS0wNi0wMlQxNTowMDowMA"}, "cursor"),
    ({"status": "lost"}, "status"),
    ({"channel": "Web Shop"}, "channel"),
    ({"sku": "a b"}, "sku"),
    ({"node_id": "-dc"}, "node_id"),
    ({"customer_email": "not an e-mail"}, "customer_email"),
    ({"created_from": "yesterday"}, "created_from"),
    ({"created_from": "2025-06-03T00:00:00Z", "created_to": "2025-06-02T00:00:00Z"}, "created_to"),
    ({"created_to": "0001-01-01T00:00:00+05:00"}, "created_to"),
    ({"held": "maybe"}, "held"),
    ({"hold_reason": "fraud"}, "hold_reason"),
    ({"limit": 0}, "limit"),
    ({"limit": 501}, "limit"),
])
async def test_a_bad_filter_or_cursor_is_a_422_naming_it(app_on: Any, params: dict[str, Any], field: str) -> None:
    async with http_to(app_on) as http:
        response = await http.get("/v1/orders", params=params)

    assert response.status_code == 422, response.text
    assert field_locs(response) == [["query", field]]
