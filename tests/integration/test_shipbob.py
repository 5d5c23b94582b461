"""The ShipBob client against the ShipBob sandbox over real HTTP: cursor pages, rate limits, errors."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from integrations.http import PermanentProviderError, RateLimitedError, RetryPolicy
from integrations.threepl.ratelimit import SlidingWindowLimiter
from integrations.threepl.shipbob import ShipBobClient
from tests.fixtures.sandbox import RunningSandbox


def levels(count: int, *, start: int = 1) -> list[dict[str, Any]]:
    return [{"inventory_id": n, "name": f"Item {n}", "sku": f"SB-{n:03d}", "total_on_hand_quantity": n * 10,
             "total_fulfillable_quantity": n * 10 - 1, "total_committed_quantity": 1,
             "total_sellable_quantity": n * 10 - 1, "total_awaiting_quantity": 0}
            for n in range(start, start + count)]


@pytest.fixture
def shipbob(sandbox: RunningSandbox) -> Iterator[RunningSandbox]:
    sandbox.shipbob_reset()
    yield sandbox
    sandbox.shipbob_reset()


def client_for(sandbox: RunningSandbox, *, token: str | None = None, **options: Any) -> ShipBobClient:
    return ShipBobClient(sandbox.shipbob_url, token or sandbox.shipbob_key, **options)


def test_inventory_levels_follow_the_next_cursor_across_pages_until_it_is_null(shipbob: RunningSandbox) -> None:
    shipbob.shipbob_seed(levels(7))
    with client_for(shipbob) as client:
        pages = list(client.inventory_pages(page_size=3))
        everything = list(client.inventory_levels(page_size=3))
    assert [len(page.items) for page in pages] == [3, 3, 1]
    assert pages[-1].next is None
    assert [level.sku for level in everything] == [f"SB-{n:03d}" for n in range(1, 8)]
    assert everything[6].total_on_hand_quantity == 70
    assert everything[6].total_fulfillable_quantity == 69
    assert shipbob.shipbob_stats()["requests_served"] == 6


def test_a_pass_resumes_from_a_next_link_an_earlier_pass_stopped_at(shipbob: RunningSandbox) -> None:
    shipbob.shipbob_seed(levels(5))
    with client_for(shipbob) as client:
        first = next(client.inventory_pages(page_size=2))
        assert first.next is not None and first.next.startswith(shipbob.shipbob_url + "/2026-07/")
        rest = [level.inventory_id for page in client.inventory_pages(start=first.next) for level in page.items]
    assert rest == [3, 4, 5]


def test_a_429_with_x_retry_after_is_waited_out_and_every_page_still_arrives(shipbob: RunningSandbox) -> None:
    shipbob.shipbob_seed(levels(4))
    shipbob.shipbob_rate_limit(2, 1.0)
    started = time.monotonic()
    with client_for(shipbob, retry=RetryPolicy(max_retries=3, max_wait=5)) as client:
        got = [level.inventory_id for level in client.inventory_levels(page_size=1)]
    elapsed = time.monotonic() - started
    assert got == [1, 2, 3, 4]
    stats = shipbob.shipbob_stats()
    assert stats["throttled"] >= 1
    assert stats["requests_served"] == 4
    # Four calls at two per second cannot finish in under a second unless the client ignored the 429.
    assert elapsed >= 1.0


def test_a_wait_longer_than_the_policy_sleeps_is_raised_with_the_providers_retry_after(
        shipbob: RunningSandbox) -> None:
    shipbob.shipbob_seed(levels(2))
    shipbob.shipbob_rate_limit(1, 30.0)
    with client_for(shipbob, retry=RetryPolicy(max_retries=2, max_wait=1)) as client:
        pages = client.inventory_pages(page_size=1)
        next(pages)
        with pytest.raises(RateLimitedError) as caught:
            next(pages)
    assert caught.value.status == 429
    assert caught.value.retry_after is not None and 25 <= caught.value.retry_after <= 30
    assert "Rate limit is exceeded" in caught.value.message
    assert shipbob.shipbob_stats()["throttled"] == 1


def test_a_wrong_token_is_a_permanent_401(shipbob: RunningSandbox) -> None:
    with client_for(shipbob, token="not-the-token") as client, pytest.raises(PermanentProviderError) as caught:
        list(client.inventory_levels())
    assert caught.value.status == 401
    assert caught.value.provider == "shipbob"


def test_a_bad_page_size_is_refused_naming_the_field(shipbob: RunningSandbox) -> None:
    with client_for(shipbob) as client, pytest.raises(PermanentProviderError) as caught:
        client.inventory_page("/2026-07/inventory-level", params={"PageSize": 0})
    assert caught.value.status == 400
    assert caught.value.field == "PageSize"
    assert "between 1 and 250" in caught.value.message


def test_a_forged_cursor_is_refused_naming_the_field(shipbob: RunningSandbox) -> None:
    with client_for(shipbob) as client, pytest.raises(PermanentProviderError) as caught:
        client.inventory_page("/2026-07/inventory-level", params={"Cursor": "not-a-cursor"})
    assert (caught.value.status, caught.value.field) == (400, "Cursor")


def test_an_unknown_api_version_is_a_404_problem_details(shipbob: RunningSandbox) -> None:
    with client_for(shipbob, version="1999-01") as client, pytest.raises(PermanentProviderError) as caught:
        list(client.inventory_levels())
    assert caught.value.status == 404
    assert caught.value.message.startswith("Not Found: API version '1999-01'")


def test_a_cursor_link_to_another_host_is_refused_before_the_token_is_sent(shipbob: RunningSandbox) -> None:
    with client_for(shipbob) as client, pytest.raises(PermanentProviderError) as caught:
        client.inventory_page("https://elsewhere.invalid/2026-07/inventory-level?Cursor=x")
    assert caught.value.field == "next"
    assert shipbob.shipbob_stats()["requests_served"] == 0


def test_the_sliding_window_admits_again_once_the_oldest_call_leaves_it() -> None:
    now = [0.0]
    limiter = SlidingWindowLimiter(2, 60.0, clock=lambda: now[0])
    assert limiter.admit("t").remaining == 1
    now[0] = 10.0
    assert limiter.admit("t").remaining == 0
    now[0] = 20.5
    refused = limiter.admit("t")
    assert (refused.allowed, refused.retry_after) == (False, 40)
    assert limiter.admit("other").allowed
    now[0] = 60.0
    assert limiter.admit("t").allowed
    assert not limiter.admit("t").allowed


def test_production_with_a_3pl_configured_refuses_the_dev_shipbob_key_and_accepts_a_real_one() -> None:
    from omniroute.config.settings import Settings

    real = {"environment": "production", "easypost_api_key": "ek", "sendgrid_api_key": "sk",
            "codec_keys": '{"k1": "' + "A" * 43 + '="}',
            "easypost_base_url": "https://api.easypost.com/v2", "sendgrid_base_url": "https://api.sendgrid.com",
            "shopify_api_key": "shk", "database_url": "postgresql://omniroute@app-db/omniroute"}
    Settings.model_validate(real).require_providers()  # no 3PL: no ShipBob key needed
    with pytest.raises(ValueError, match="OMNIROUTE_SHIPBOB_API_KEY"):
        Settings.model_validate(real | {"shipbob_node_id": "3pl-1"}).require_providers()
    configured = Settings.model_validate(real | {"shipbob_node_id": "3pl-1", "shipbob_api_key": "pat",
                                                 "shipbob_base_url": "https://api.shipbob.com/2.0"})
    configured.require_providers()
    assert configured.shipbob_url == "https://api.shipbob.com/2.0"
