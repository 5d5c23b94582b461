"""POST /webhooks/shopify/{channel} through the gateway, against a real Temporal dev server and an Omniroute
worker: a signed orders/create starts the order with Shopify's id as channel_order_id, and the same order
by POST /v1/orders is the same order; a bad signature starts nothing; a repeated delivery does nothing new;
orders/cancelled cancels (and a cancel refused because the lines shipped is a 200 recorded in the audit
trail); a privacy webhook is answered and audited. Bodies have the shape of Shopify's order resource."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import random
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from models.audit import AuditFilter, AuditKind
from omniroute.client import OrderNotFoundError
from omniroute.config.settings import Settings
from store import Store
from tests.fixtures.eventually import eventually_reads
from tests.fixtures.gateway import ADMIN_TOKEN, gateway_app, http_to, unreachable_temporal
from tests.fixtures.temporal import RunningWorker

CHANNEL = "shop_us"
SECRET = "shpss_" + uuid.uuid4().hex
SKU = "MUG-1"
Json = dict[str, Any]


@pytest.fixture
async def http(omniroute_worker: RunningWorker) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway on the worker's store and task queue (with the channel's Shopify secret), one DC near
    Chicago holding 10 mugs."""
    app = gateway_app(omniroute_worker.store, omniroute_worker.sdk,
                      shopify_webhook_secrets=json.dumps({CHANNEL: SECRET}))
    async with http_to(app) as client:
        node = {"name": "Illinois DC", "kind": "dc", "postal_code": "60106"}
        assert (await client.put("/v1/nodes/dc-il", json=node)).status_code == 200
        assert (await client.put(f"/v1/inventory/dc-il/{SKU}", json={"on_hand": 10})).status_code == 200
        yield client


def shopify_order(order_id: int, **changes: Any) -> Json:
    """An order as Shopify's orders/* webhooks carry it (the REST resource, no wrapper)."""
    order: Json = {
        "id": order_id, "admin_graphql_api_id": f"gid://shopify/Order/{order_id}", "name": "#1001",
        "email": f"buyer-{uuid.uuid4().hex[:8]}@example.com", "currency": "USD", "total_price": "49.98",
        "total_tax": "3.00", "financial_status": "paid", "cancelled_at": None, "cancel_reason": None,
        "customer": {"id": 207119551, "first_name": "Ada", "last_name": "Buyer"},
        "shipping_address": {"first_name": "Ada", "last_name": "Buyer", "address1": "1 Main St", "address2": None,
                             "city": "Chicago", "province_code": "IL", "zip": "60601", "country_code": "US",
                             "phone": None},
        "line_items": [{"id": 466157049, "variant_id": 39072856, "title": "Mug", "sku": SKU, "quantity": 2,
                        "current_quantity": 2, "fulfillable_quantity": 2, "price": "24.99",
                        "requires_shipping": True}],
        "shipping_lines": [{"title": "Standard", "price": "5.00", "code": "standard"}],
        "tax_lines": [{"title": "IL State Tax", "price": "3.00", "rate": 0.06}],
    }
    order.update(changes)
    return order


def signed(body: bytes, topic: str, *, secret: str = SECRET, webhook_id: str | None = None) -> dict[str, str]:
    digest = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    return {"content-type": "application/json", "X-Shopify-Topic": topic, "X-Shopify-Hmac-Sha256": digest,
            "X-Shopify-Shop-Domain": "omniroute-test.myshopify.com", "X-Shopify-API-Version": "2026-01",
            "X-Shopify-Webhook-Id": webhook_id or str(uuid.uuid4()), "X-Shopify-Triggered-At": "2026-12-06T10:00:00Z"}


async def deliver(http: httpx.AsyncClient, topic: str, payload: Json, **signing: Any) -> httpx.Response:
    body = json.dumps(payload).encode()
    return await http.post(f"/webhooks/shopify/{CHANNEL}", content=body, headers=signed(body, topic, **signing))


def a_shopify_id() -> int:
    return random.randrange(10**17, 10**18)


async def poll(http: httpx.AsyncClient, order_id: str, until: Callable[[Json], bool]) -> Json:
    async def read() -> Json:
        response = await http.get(f"/v1/orders/{order_id}")
        assert response.status_code == 200, response.text
        body: Json = response.json()
        return body

    return await eventually_reads(read, until, f"order {order_id} to be as the test awaits", 30)


async def test_a_signed_orders_create_starts_the_order_with_shopifys_id(http: httpx.AsyncClient) -> None:
    shopify_id = a_shopify_id()

    response = await deliver(http, "orders/create", shopify_order(shopify_id))

    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "started"
    order_id = f"{CHANNEL}-{shopify_id}"
    order = await poll(http, order_id, lambda view: bool(view["shipments"]))
    assert order["channel_order_id"] == str(shopify_id)
    assert [(x["sku"], x["quantity"], x["unit_price"]) for x in order["lines"]] == [(SKU, 2, 2499)]


async def test_the_same_order_by_webhook_and_by_the_api_is_one_order(
        http: httpx.AsyncClient, omniroute_worker: RunningWorker) -> None:
    shopify_id = a_shopify_id()
    assert (await deliver(http, "orders/create", shopify_order(shopify_id))).json()["outcome"] == "started"

    by_api = await http.post("/v1/orders", json={
        "channel": CHANNEL, "channel_order_id": str(shopify_id), "currency": "USD",
        "customer": {"email": "buyer@example.com", "name": "Ada Buyer"},
        "ship_to": {"name": "Ada Buyer", "line1": "1 Main St", "city": "Chicago", "region": "IL",
                    "postal_code": "60601"},
        "lines": [{"sku": SKU, "quantity": 2, "unit_price": 2499}]})
    again = await deliver(http, "orders/create", shopify_order(shopify_id))

    assert by_api.status_code == 200, by_api.text
    assert by_api.json() == {"order_id": f"{CHANNEL}-{shopify_id}", "workflow_id": f"order-{CHANNEL}-{shopify_id}",
                             "created": False}
    assert again.json()["outcome"] == "existing"
    intakes = omniroute_worker.store.audit_entries(AuditFilter(kind=AuditKind.ORDER_INTAKE,
                                                               order_id=f"{CHANNEL}-{shopify_id}"))
    assert len(intakes) == 1


@pytest.mark.parametrize("signing", [
    pytest.param({"secret": "shpss_another"}, id="another secret"),
    pytest.param({"secret": ""}, id="empty signature"),
])
async def test_a_bad_signature_is_a_401_and_starts_no_workflow(
        http: httpx.AsyncClient, omniroute_worker: RunningWorker, signing: dict[str, str]) -> None:
    shopify_id = a_shopify_id()
    body = json.dumps(shopify_order(shopify_id)).encode()
    headers = signed(body, "orders/create", **signing)
    if not signing["secret"]:
        del headers["X-Shopify-Hmac-Sha256"]

    response = await http.post(f"/webhooks/shopify/{CHANNEL}", content=body, headers=headers)

    assert response.status_code == 401
    with pytest.raises(OrderNotFoundError):
        await omniroute_worker.sdk.get_order(f"{CHANNEL}-{shopify_id}")
    assert omniroute_worker.store.audit_entries(AuditFilter(order_id=f"{CHANNEL}-{shopify_id}")) == []


async def test_a_repeated_webhook_id_is_acknowledged_and_does_nothing_new(
        http: httpx.AsyncClient, omniroute_worker: RunningWorker) -> None:
    shopify_id, webhook_id = a_shopify_id(), str(uuid.uuid4())
    first = await deliver(http, "orders/create", shopify_order(shopify_id), webhook_id=webhook_id)
    await poll(http, f"{CHANNEL}-{shopify_id}", lambda view: bool(view["shipments"]))

    # The same delivery id, even for a cancel: the delivery was handled, so nothing is applied.
    again = await deliver(http, "orders/cancelled", shopify_order(shopify_id), webhook_id=webhook_id)

    assert first.json()["outcome"] == "started"
    assert again.status_code == 200
    assert again.json()["outcome"] == "replay"
    order = await http.get(f"/v1/orders/{CHANNEL}-{shopify_id}")
    assert order.json()["status"] != "cancelled"
    assert omniroute_worker.store.audit_entries(AuditFilter(kind=AuditKind.ORDER_CANCEL,
                                                            order_id=f"{CHANNEL}-{shopify_id}")) == []


async def test_orders_cancelled_cancels_the_order(http: httpx.AsyncClient, omniroute_worker: RunningWorker) -> None:
    shopify_id = a_shopify_id()
    await deliver(http, "orders/create", shopify_order(shopify_id))
    await poll(http, f"{CHANNEL}-{shopify_id}", lambda view: bool(view["shipments"]))

    response = await deliver(http, "orders/cancelled", shopify_order(
        shopify_id, cancelled_at="2026-12-06T10:05:00-05:00", cancel_reason="customer"))

    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "cancelled"
    await poll(http, f"{CHANNEL}-{shopify_id}", lambda view: view["status"] == "cancelled")
    [entry] = omniroute_worker.store.audit_entries(AuditFilter(kind=AuditKind.ORDER_CANCEL,
                                                               order_id=f"{CHANNEL}-{shopify_id}"))
    assert entry.detail["applied"] is True


async def test_a_cancel_that_overtakes_its_create_keeps_the_order_from_starting(
        http: httpx.AsyncClient, omniroute_worker: RunningWorker) -> None:
    cancelled_first, already_cancelled = a_shopify_id(), a_shopify_id()
    cancelled = {"cancelled_at": "2026-12-06T10:05:00-05:00", "cancel_reason": "customer"}

    cancel = await deliver(http, "orders/cancelled", shopify_order(cancelled_first, **cancelled))
    create = await deliver(http, "orders/create", shopify_order(cancelled_first))
    create_cancelled = await deliver(http, "orders/create", shopify_order(already_cancelled, **cancelled))

    assert [r.status_code for r in (cancel, create, create_cancelled)] == [200, 200, 200]
    assert [r.json()["outcome"] for r in (cancel, create, create_cancelled)] == ["ignored", "ignored", "ignored"]
    assert "cancelled in Shopify before it was created here" in create.json()["detail"]
    for shopify_id in (cancelled_first, already_cancelled):
        with pytest.raises(OrderNotFoundError):
            await omniroute_worker.sdk.get_order(f"{CHANNEL}-{shopify_id}")


async def test_a_cancel_refused_because_the_lines_shipped_is_acknowledged_and_audited(
        http: httpx.AsyncClient, omniroute_worker: RunningWorker) -> None:
    shopify_id = a_shopify_id()
    order_id = f"{CHANNEL}-{shopify_id}"
    await deliver(http, "orders/create", shopify_order(shopify_id))
    order = await poll(http, order_id, lambda view: bool(view["shipments"])
                       and view["shipments"][0]["state"] == "released")
    shipment_id = order["shipments"][0]["shipment_id"]
    for kind in ("picked", "packed", "shipped"):
        event = await http.post(f"/v1/shipments/{shipment_id}/events",
                                json={"type": kind, "event_id": f"{shipment_id}-{kind}"})
        assert event.status_code == 202, event.text
    await poll(http, order_id, lambda view: view["status"] == "shipped")

    response = await deliver(http, "orders/updated", shopify_order(shopify_id, cancelled_at="2026-12-06T11:00:00Z"))

    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "refused"
    [entry] = omniroute_worker.store.audit_entries(AuditFilter(kind=AuditKind.ORDER_CANCEL, order_id=order_id))
    assert entry.detail["applied"] is False
    assert entry.detail["refused"]


async def test_orders_updated_cancels_a_line_shopify_removed(http: httpx.AsyncClient) -> None:
    shopify_id = a_shopify_id()
    two_lines = shopify_order(shopify_id, line_items=[
        *shopify_order(shopify_id)["line_items"],
        {"id": 466157050, "title": "Saucer", "sku": "SAUCER-1", "quantity": 1, "current_quantity": 1,
         "price": "5.00"}])
    assert (await http.put("/v1/inventory/dc-il/SAUCER-1", json={"on_hand": 5})).status_code == 200
    await deliver(http, "orders/create", two_lines)
    await poll(http, f"{CHANNEL}-{shopify_id}", lambda view: bool(view["shipments"]))
    two_lines["line_items"][1]["current_quantity"] = 0

    response = await deliver(http, "orders/updated", two_lines)

    assert response.json()["outcome"] == "cancelled", response.text
    order = await poll(http, f"{CHANNEL}-{shopify_id}",
                       lambda view: view["lines"][1]["status"] == "cancelled")
    assert order["lines"][0]["status"] != "cancelled"


@pytest.mark.parametrize("topic", ["customers/data_request", "customers/redact", "shop/redact"])
async def test_a_privacy_webhook_is_answered_and_audited(
        http: httpx.AsyncClient, omniroute_worker: RunningWorker, topic: str) -> None:
    payload = {"shop_id": 954889, "shop_domain": "omniroute-test.myshopify.com",
               "customer": {"id": 191167, "email": "john@example.com", "phone": "555-625-1199"},
               "orders_to_redact": [299938, 280263]}

    response = await deliver(http, topic, payload)

    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "recorded"
    entries = omniroute_worker.store.audit_entries(AuditFilter(kind=AuditKind.PRIVACY_REQUEST))
    [entry] = [e for e in entries if e.detail["topic"] == topic]
    assert entry.detail["order_ids"] == [f"{CHANNEL}-299938", f"{CHANNEL}-280263"]
    assert "john@example.com" not in json.dumps(entry.detail)


async def test_a_signed_order_that_cannot_be_mapped_is_a_422_naming_the_field_and_starts_nothing(
        http: httpx.AsyncClient, omniroute_worker: RunningWorker) -> None:
    shopify_id = a_shopify_id()
    order = shopify_order(shopify_id)
    order["line_items"][0]["sku"] = None

    response = await deliver(http, "orders/create", order)

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "line_items", 0, "sku"]
    with pytest.raises(OrderNotFoundError):
        await omniroute_worker.sdk.get_order(f"{CHANNEL}-{shopify_id}")


async def test_temporal_out_of_reach_is_a_503_and_the_delivery_is_not_remembered(sqlite_store: Store) -> None:
    webhook_id = str(uuid.uuid4())
    app = gateway_app(sqlite_store, await unreachable_temporal(),
                      shopify_webhook_secrets=json.dumps({CHANNEL: SECRET}))
    async with http_to(app, token=None) as gateway:
        response = await deliver(gateway, "orders/create", shopify_order(a_shopify_id()), webhook_id=webhook_id)

    assert response.status_code == 503
    assert not sqlite_store.webhook_handled("shopify", webhook_id, now=datetime.now(UTC))


async def test_outside_development_a_channel_without_a_secret_refuses_every_webhook(sqlite_store: Store) -> None:
    codec_key = base64.b64encode(os.urandom(32)).decode()
    settings = Settings(environment="production", database_url="postgresql://unused@db/omniroute",
                        bootstrap_admin_key=ADMIN_TOKEN, codec_keys=json.dumps({"k1": codec_key}),
                        shopify_webhook_secrets=json.dumps({"another_shop": SECRET}))
    app = create_app(settings, store=sqlite_store, client=await unreachable_temporal())
    async with http_to(app, token=None) as gateway:
        response = await deliver(gateway, "customers/redact", {"shop_domain": "x.myshopify.com"})

    assert response.status_code == 503
    assert "OMNIROUTE_SHOPIFY_WEBHOOK_SECRETS" in response.json()["detail"]
    assert sqlite_store.audit_entries(AuditFilter(kind=AuditKind.PRIVACY_REQUEST)) == []


def test_a_remembered_delivery_is_forgotten_once_it_expires(sqlite_store: Store) -> None:
    handled_at = datetime(2026, 12, 6, 10, tzinfo=UTC)
    sqlite_store.remember_webhook("shopify", "wh-1", now=handled_at, keep=timedelta(days=7))

    assert sqlite_store.webhook_handled("shopify", "wh-1", now=handled_at + timedelta(days=6))
    assert not sqlite_store.webhook_handled("other_sender", "wh-1", now=handled_at)
    sqlite_store.remember_webhook("shopify", "wh-2", now=handled_at + timedelta(days=8), keep=timedelta(days=7))
    assert not sqlite_store.webhook_handled("shopify", "wh-1", now=handled_at + timedelta(days=6))  # purged
    assert sqlite_store.webhook_handled("shopify", "wh-2", now=handled_at + timedelta(days=8))
