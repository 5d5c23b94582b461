"""The Shopify client against the Shopify sandbox over real HTTP: set levels, refusals, throttling."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import httpx
import pytest

from integrations.channels.sandbox import create_shopify_sandbox
from integrations.channels.shopify import ShopifyClient
from integrations.http import PermanentProviderError, RateLimitedError, RetryPolicy
from integrations.sandbox import SandboxServer
from tests.fixtures.sandbox import RunningSandbox


def _ids() -> tuple[int, int]:
    """A location and an inventory item no other test uses (the session sandbox is shared)."""
    return 10_000_000 + secrets.randbelow(10**9), 10_000_000 + secrets.randbelow(10**9)


@pytest.fixture
def throttled_shop() -> Iterator[str]:
    """A shop of its own whose bucket holds 2 calls and drains 5 per second."""
    with SandboxServer(create_shopify_sandbox("shpat_small", bucket_size=2, leak_rate=5.0)) as server:
        yield server.url


def test_setting_a_level_stores_it_and_answers_the_inventory_level(sandbox: RunningSandbox) -> None:
    location_id, item_id = _ids()
    with ShopifyClient(sandbox.shopify_url, sandbox.shopify_token) as shopify:
        level = shopify.set_inventory_level(location_id, item_id, 7)
        again = shopify.set_inventory_level(location_id, item_id, 3)
    assert (level.location_id, level.inventory_item_id, level.available) == (location_id, item_id, 7)
    assert again.available == 3
    stored = sandbox.shopify_levels(location_id)
    assert [(s["inventory_item_id"], s["available"]) for s in stored] == [(item_id, 3)]


def test_every_answer_carries_the_call_limit_header(sandbox: RunningSandbox) -> None:
    location_id, item_id = _ids()
    response = httpx.post(f"{sandbox.shopify_url}/admin/api/2026-07/inventory_levels/set.json",
                          json={"location_id": location_id, "inventory_item_id": item_id, "available": 1},
                          headers={"X-Shopify-Access-Token": sandbox.shopify_token})
    used, size = response.headers["X-Shopify-Shop-Api-Call-Limit"].split("/")
    assert response.status_code == 200 and int(size) == 40 and 1 <= int(used) <= 40


def test_a_wrong_token_is_refused_with_shopifys_401(sandbox: RunningSandbox) -> None:
    location_id, item_id = _ids()
    with ShopifyClient(sandbox.shopify_url, "shpat_wrong") as shopify, \
            pytest.raises(PermanentProviderError) as refused:
        shopify.set_inventory_level(location_id, item_id, 1)
    assert refused.value.status == 401
    response = httpx.post(f"{sandbox.shopify_url}/admin/api/2026-07/inventory_levels/set.json", json={})
    assert response.status_code == 401 and "X-Shopify-Shop-Api-Call-Limit" in response.headers
    assert "Invalid API key or access token" in refused.value.message
    assert sandbox.shopify_levels(location_id) == []


def test_a_bad_body_is_refused_with_422_naming_the_field(sandbox: RunningSandbox) -> None:
    location_id, item_id = _ids()
    response = httpx.post(f"{sandbox.shopify_url}/admin/api/2026-07/inventory_levels/set.json",
                          json={"location_id": location_id, "inventory_item_id": item_id, "available": "many"},
                          headers={"X-Shopify-Access-Token": sandbox.shopify_token})
    assert response.status_code == 422
    assert response.json() == {"errors": {"available": ["must be an integer"]}}
    with ShopifyClient(sandbox.shopify_url, sandbox.shopify_token) as shopify, \
            pytest.raises(PermanentProviderError) as refused:
        shopify.set_inventory_level(-1, item_id, 1)
    assert refused.value.status == 422 and refused.value.field == "location_id"


def test_a_full_bucket_answers_429_and_the_client_waits_out_retry_after(throttled_shop: str) -> None:
    location_id, item_id = _ids()
    with ShopifyClient(throttled_shop, "shpat_small") as shopify:
        levels = [shopify.set_inventory_level(location_id, item_id + n, n) for n in range(6)]
    assert [level.available for level in levels] == list(range(6))
    stats = httpx.get(f"{throttled_shop}/_sandbox/stats").json()
    assert stats["throttled"] >= 1 and stats["levels_set"] == 6


def test_throttling_beyond_the_retry_budget_raises_rate_limited_with_the_wait(throttled_shop: str) -> None:
    location_id, item_id = _ids()
    with ShopifyClient(throttled_shop, "shpat_small", retry=RetryPolicy(max_retries=0)) as shopify:
        shopify.set_inventory_level(location_id, item_id, 1)
        shopify.set_inventory_level(location_id, item_id, 2)
        with pytest.raises(RateLimitedError) as throttled:
            shopify.set_inventory_level(location_id, item_id, 3)
    assert throttled.value.status == 429
    assert throttled.value.retry_after is not None and 0 < throttled.value.retry_after <= 0.2 + 1e-3
