"""The Shopify GraphQL client against the Shopify sandbox over real HTTP: an order's fulfillment orders,
fulfillmentCreate with tracking, orderCancel, inventorySetQuantities, errors naming their field, and the
cost-based throttle honoured before a call and after a THROTTLED answer. Also the sandbox's order knob
and its signed orders/create webhook."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from integrations.channels.sandbox import create_shopify_sandbox
from integrations.channels.shopify_graphql import (
    ORDER_CANCEL,
    InventoryQuantity,
    ShopifyGraphQLClient,
    TrackingInfo,
    gid,
    lines_for_fulfillment,
)
from integrations.http import PermanentProviderError, RateLimitedError, RetryPolicy, TransientProviderError
from integrations.sandbox import SandboxServer
from integrations.sandbox_store import SandboxStore
from tests.fixtures.sandbox import RunningSandbox
from tests.fixtures.webhook_inbox import webhook_inbox

TOKEN = "shpat_graphql_tests"


@pytest.fixture
def shop() -> Iterator[str]:
    """A shop of its own on Shopify's Standard plan bucket."""
    with SandboxServer(create_shopify_sandbox(TOKEN)) as server:
        yield server.url


@pytest.fixture
def small_shop() -> Iterator[str]:
    """A shop whose GraphQL bucket holds two mutations (20 points) and restores 20 points a second."""
    with SandboxServer(create_shopify_sandbox(TOKEN, graphql_maximum=20, graphql_restore_rate=20)) as server:
        yield server.url


def new_order(shop: str, *lines: tuple[str, int]) -> dict[str, Any]:
    body = {"line_items": [{"sku": sku, "quantity": qty, "price": "12.50"} for sku, qty in lines]}
    response = httpx.post(f"{shop}/_sandbox/orders", json=body, timeout=5)
    assert response.status_code == 201, response.text
    order: dict[str, Any] = response.json()
    return order


def sandbox_order(shop: str, order_id: int) -> dict[str, Any]:
    response = httpx.get(f"{shop}/_sandbox/orders/{order_id}", timeout=5)
    response.raise_for_status()
    order: dict[str, Any] = response.json()
    return order


def stats(shop: str) -> dict[str, int]:
    result: dict[str, int] = httpx.get(f"{shop}/_sandbox/stats", timeout=5).json()
    return result


def test_an_orders_fulfillment_orders_are_read_and_fulfilled_with_tracking(shop: str) -> None:
    order = new_order(shop, ("MUG-1", 2), ("TEE-1", 1))
    with ShopifyGraphQLClient(shop, TOKEN) as shopify:
        state = shopify.order_state(order["id"])
        assert state is not None and state.cancelled_at is None and state.fulfillments == []
        assert [(line.sku, line.remaining_quantity) for line in state.fulfillment_orders[0].lines] == [
            ("MUG-1", 2), ("TEE-1", 1)]

        lines = lines_for_fulfillment(state, {"MUG-1": 2})
        created = shopify.create_fulfillment(lines, TrackingInfo(company="UPS", number="1Z999", url=None))
        after = shopify.order_state(order["id"])

    assert created.tracking == [TrackingInfo(company="UPS", number="1Z999", url=None)]
    assert after is not None and after.fulfillment_with_tracking("1Z999") is not None
    assert after.fulfillment_orders[0].status == "IN_PROGRESS"
    seen = sandbox_order(shop, order["id"])
    assert [(f["tracking_company"], f["tracking_number"]) for f in seen["fulfillments"]] == [("UPS", "1Z999")]
    assert seen["fulfillments"][0]["line_items"][0]["sku"] == "MUG-1"
    assert seen["fulfillment_status"] == "partial"


def test_an_order_unknown_to_the_shop_reads_as_none(shop: str) -> None:
    with ShopifyGraphQLClient(shop, TOKEN) as shopify:
        assert shopify.order_state(123456789) is None


def test_more_units_than_are_left_to_fulfil_are_refused_naming_the_sku(shop: str) -> None:
    order = new_order(shop, ("MUG-1", 1))
    with ShopifyGraphQLClient(shop, TOKEN) as shopify:
        state = shopify.order_state(order["id"])
        assert state is not None
        with pytest.raises(PermanentProviderError) as refused:
            lines_for_fulfillment(state, {"MUG-1": 3})
    assert refused.value.field == "line_items.sku=MUG-1"


def test_a_user_error_is_raised_naming_the_input_field(shop: str) -> None:
    order = new_order(shop, ("MUG-1", 1))
    with ShopifyGraphQLClient(shop, TOKEN) as shopify:
        state = shopify.order_state(order["id"])
        assert state is not None
        fo = state.fulfillment_orders[0]
        with pytest.raises(PermanentProviderError) as too_many:
            shopify.create_fulfillment({fo.id: {fo.lines[0].id: 5}}, TrackingInfo(number="1Z1"))
        with pytest.raises(PermanentProviderError) as unknown:
            shopify.create_fulfillment({gid("FulfillmentOrder", 1): {fo.lines[0].id: 1}}, TrackingInfo(number="1Z1"))

    assert too_many.value.field == "fulfillment.lineItemsByFulfillmentOrder.0.fulfillmentOrderLineItems.0.quantity"
    assert unknown.value.field == "fulfillment.lineItemsByFulfillmentOrder.0.fulfillmentOrderId"
    assert "does not exist" in unknown.value.message
    assert sandbox_order(shop, order["id"])["fulfillments"] == []


def test_an_order_is_cancelled_once_and_a_second_cancel_names_the_order(shop: str) -> None:
    order = new_order(shop, ("MUG-1", 1))
    with ShopifyGraphQLClient(shop, TOKEN) as shopify:
        job = shopify.cancel_order(order["id"], staff_note="cancelled in Omniroute")
        with pytest.raises(PermanentProviderError) as again:
            shopify.cancel_order(order["id"])
        state = shopify.order_state(order["id"])

    assert job.done
    assert again.value.field == "orderId" and "already been cancelled" in again.value.message
    assert state is not None and state.cancelled_at is not None
    assert state.fulfillment_orders[0].status == "CANCELLED"
    assert sandbox_order(shop, order["id"])["cancel_reason"] == "other"


def test_a_query_error_names_the_variable(shop: str) -> None:
    with ShopifyGraphQLClient(shop, TOKEN) as shopify, pytest.raises(PermanentProviderError) as refused:
        shopify.execute(ORDER_CANCEL, {"orderId": "450789469", "reason": "OTHER", "restock": False}, cost=10)
    assert refused.value.field == "orderId" and refused.value.code == "INVALID_VARIABLE"


def test_a_wrong_token_is_refused_with_401(shop: str) -> None:
    with ShopifyGraphQLClient(shop, "shpat_wrong") as shopify, pytest.raises(PermanentProviderError) as refused:
        shopify.order_state(1)
    assert refused.value.status == 401


def test_inventory_quantities_are_set_in_mutations_of_at_most_250(shop: str) -> None:
    location = 10_000_000 + secrets.randbelow(10**9)
    quantities = [InventoryQuantity(inventory_item_id=n + 1, location_id=location, quantity=n % 7) for n in range(300)]
    with ShopifyGraphQLClient(shop, TOKEN) as shopify:
        assert shopify.set_inventory_quantities(quantities, idempotency_key="push-1") == 300

    levels = httpx.get(f"{shop}/_sandbox/levels", params={"location_id": location}, timeout=5).json()
    assert {(level["inventory_item_id"], level["available"]) for level in levels} == {
        (q.inventory_item_id, q.quantity) for q in quantities}
    assert stats(shop)["graphql_calls"] == 2


def test_a_mutation_sent_again_with_its_key_is_not_applied_twice(shop: str) -> None:
    location = 10_000_000 + secrets.randbelow(10**9)
    first = [InventoryQuantity(inventory_item_id=7, location_id=location, quantity=4)]
    with ShopifyGraphQLClient(shop, TOKEN) as shopify:
        shopify.set_inventory_quantities(first, idempotency_key="push-a")
        shopify.set_inventory_quantities(first, idempotency_key="push-a")  # a retry after a lost answer
        shopify.set_inventory_quantities(first, idempotency_key="push-b")  # the same level, a new push

    assert stats(shop)["idempotent_replays"] == 1 and stats(shop)["levels_set"] == 2


def test_a_bad_inventory_input_names_the_field(shop: str) -> None:
    with ShopifyGraphQLClient(shop, TOKEN) as shopify, pytest.raises(PermanentProviderError) as refused:
        shopify.set_inventory_quantities([InventoryQuantity(inventory_item_id=1, location_id=1, quantity=1)],
                                         idempotency_key="k", reason="")
    assert refused.value.field == "input.reason"


def test_the_client_waits_for_points_before_a_call_that_would_exceed_them(small_shop: str) -> None:
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(seconds)

    location = 10_000_000 + secrets.randbelow(10**9)
    with ShopifyGraphQLClient(small_shop, TOKEN, sleep=sleep) as shopify:
        for n in range(4):
            shopify.set_inventory_quantities(
                [InventoryQuantity(inventory_item_id=n + 1, location_id=location, quantity=n)],
                idempotency_key=f"wait-{n}")

    assert stats(small_shop)["throttled"] == 0  # never sent a call the bucket could not take
    assert waits and all(0 < wait <= 0.5 + 1e-6 for wait in waits)
    assert stats(small_shop)["levels_set"] == 4


def test_a_throttled_answer_is_waited_out_by_restore_rate_and_sent_again(small_shop: str) -> None:
    location = 10_000_000 + secrets.randbelow(10**9)
    one = [InventoryQuantity(inventory_item_id=1, location_id=location, quantity=1)]
    with ShopifyGraphQLClient(small_shop, TOKEN) as other_app:  # another app drains the shop's bucket
        other_app.set_inventory_quantities(one, idempotency_key="drain-1")
        other_app.set_inventory_quantities(one, idempotency_key="drain-2")
    with ShopifyGraphQLClient(small_shop, TOKEN) as shopify:  # knows nothing of the bucket yet
        shopify.set_inventory_quantities(one, idempotency_key="after-drain")
        waited = shopify.waited

    assert stats(small_shop)["throttled"] >= 1
    assert 0 < waited <= 0.5 + 1e-6  # (10 requested − available) / 20 points a second
    assert stats(small_shop)["levels_set"] == 3


def test_a_wait_beyond_the_policy_raises_rate_limited_with_the_wait(small_shop: str) -> None:
    one = [InventoryQuantity(inventory_item_id=1, location_id=1, quantity=1)]
    patient = RetryPolicy(max_retries=0, max_wait=0.0)
    with ShopifyGraphQLClient(small_shop, TOKEN) as other_app:
        other_app.set_inventory_quantities(one, idempotency_key="d1")
        other_app.set_inventory_quantities(one, idempotency_key="d2")
    with ShopifyGraphQLClient(small_shop, TOKEN, retry=patient) as shopify, \
            pytest.raises(RateLimitedError) as throttled:
        shopify.set_inventory_quantities(one, idempotency_key="d3")
    assert throttled.value.code == "THROTTLED"
    assert throttled.value.retry_after is not None and 0 < throttled.value.retry_after <= 0.5 + 1e-6


def test_an_outage_is_transient(sandbox: RunningSandbox) -> None:
    faults = f"{sandbox.shopify_url}/_sandbox/faults"
    httpx.post(faults, json={"status": 503, "count": 1}, timeout=5).raise_for_status()
    try:
        with ShopifyGraphQLClient(sandbox.shopify_url, sandbox.shopify_token,
                                  retry=RetryPolicy(max_retries=0)) as shopify, \
                pytest.raises(TransientProviderError) as failed:
            shopify.order_state(1)
    finally:
        httpx.delete(faults, timeout=5)
    assert failed.value.status == 503


def test_a_new_order_is_sent_as_a_signed_orders_create_webhook(shop: str) -> None:
    secret = "shpss_" + secrets.token_hex(8)
    with webhook_inbox("X-Shopify-Hmac-Sha256") as inbox:
        httpx.post(f"{shop}/_sandbox/webhooks", json={"url": inbox.url, "secret": secret}, timeout=5).raise_for_status()
        order = new_order(shop, ("MUG-1", 2))
        body, signature = inbox.wait_for(lambda sent: sent["id"] == order["id"], "the orders/create webhook")

    expected = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    assert hmac.compare_digest(signature, expected)
    sent = json.loads(body)
    assert sent["line_items"][0]["sku"] == "MUG-1" and sent["line_items"][0]["quantity"] == 2
    assert sent["name"].startswith("#") and sent["currency"] == "USD" and sent["financial_status"] == "paid"
    assert sent["total_tax"] == "1.50" and sent["shipping_lines"][0]["title"] == "Standard"
    assert sent["shipping_address"]["zip"] == "60601"


def test_an_order_without_line_items_is_refused_naming_the_field(shop: str) -> None:
    response = httpx.post(f"{shop}/_sandbox/orders", json={"line_items": [{"quantity": 1}]}, timeout=5)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "line_items", "0", "sku"]


def test_orders_fulfillments_and_subscriptions_outlive_a_restart_on_the_same_file(tmp_path: Path) -> None:
    path = tmp_path / "sandboxes.db"
    with SandboxStore(path) as store, SandboxServer(create_shopify_sandbox(TOKEN, store=store)) as before:
        httpx.post(f"{before.url}/_sandbox/webhooks", json={"url": "http://127.0.0.1:9/hooks", "secret": "s"},
                   timeout=5).raise_for_status()
        first = new_order(before.url, ("MUG-1", 1))
        with ShopifyGraphQLClient(before.url, TOKEN) as shopify:
            state = shopify.order_state(first["id"])
            assert state is not None
            shopify.create_fulfillment(lines_for_fulfillment(state, {"MUG-1": 1}), TrackingInfo(number="9400"))
    with SandboxStore(path) as store:
        # Subscribed again at start (as a demo does at every start): the URL is still subscribed once.
        restarted = create_shopify_sandbox(TOKEN, store=store, webhooks=[("http://127.0.0.1:9/hooks", "s2")])
        with SandboxServer(restarted) as after:
            again = sandbox_order(after.url, first["id"])
            second = new_order(after.url, ("MUG-1", 1))
            subscriptions = httpx.get(f"{after.url}/_sandbox/webhooks", timeout=5).json()["subscriptions"]

    assert [f["tracking_number"] for f in again["fulfillments"]] == ["9400"]
    assert second["id"] > first["id"] and int(second["name"][1:]) == int(first["name"][1:]) + 1
    assert [s["url"] for s in subscriptions] == ["http://127.0.0.1:9/hooks"]
