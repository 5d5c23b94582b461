"""Shopify as a channel end to end, on a real Temporal dev server, worker and gateway over HTTP, and a
Shopify sandbox of the test's own: a checkout in the sandbox sends a signed orders/create to the gateway,
which starts the order; it ships; the channel's write-back creates the fulfillment in Shopify with the
carrier and tracking. A bad signature starts nothing; a cancel in Omniroute cancels in Shopify; a
Shopify outage delays the write-back, which completes once Shopify answers again."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from temporalio.client import Client
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from integrations.channels.sandbox import create_shopify_sandbox
from integrations.sandbox import SandboxServer
from models.channel_writeback import (
    ChannelWritebackConfig,
    ChannelWritebackStatus,
    WritebackOutcome,
    channel_writeback_workflow_id,
)
from omniroute.client import OmnirouteClient
from store import Store
from tests.fixtures.eventually import eventually, eventually_reads
from tests.fixtures.gateway import gateway_app, http_to
from tests.fixtures.sandbox import RunningSandbox
from tests.fixtures.temporal import worker_settings
from workers.channel_writebacks import ensure_channel_writebacks
from workers.main import running_worker

TOKEN = "shpat_e2e_" + uuid.uuid4().hex[:8]
SKU = "MUG-1"
Json = dict[str, Any]


@dataclass
class Stack:
    """The gateway (in process, admin key), the shop's base URL, the channel and the worker's store."""

    http: httpx.AsyncClient
    shop: str
    channel: str
    secret: str
    gateway_url: str
    store: Store
    temporal: Client

    async def checkout(self, *lines: tuple[str, int]) -> int:
        """A customer checks out in Shopify: the sandbox makes the order and sends orders/create."""
        body = {"line_items": [{"sku": sku, "quantity": qty, "price": "24.99"} for sku, qty in lines]}
        async with httpx.AsyncClient(timeout=5) as client:
            response = await client.post(f"{self.shop}/_sandbox/orders", json=body)
        assert response.status_code == 201, response.text
        return int(response.json()["id"])

    async def shopify_order(self, shopify_id: int) -> Json:
        async with httpx.AsyncClient(timeout=5) as client:
            response = await client.get(f"{self.shop}/_sandbox/orders/{shopify_id}")
        response.raise_for_status()
        order: Json = response.json()
        return order

    async def shop_control(self, method: str, path: str, body: Json | None = None) -> Json:
        async with httpx.AsyncClient(timeout=5) as client:
            response = await client.request(method, f"{self.shop}/_sandbox/{path}", json=body)
        response.raise_for_status()
        answer: Json = response.json()
        return answer

    def order_id(self, shopify_id: int) -> str:
        return f"{self.channel}-{shopify_id}"

    async def view(self, order_id: str) -> Json:
        response = await self.http.get(f"/v1/orders/{order_id}")
        assert response.status_code == 200, response.text
        body: Json = response.json()
        return body

    async def wait_for(self, order_id: str, until: Any, what: str) -> Json:
        """The order's view once `until` holds (an order not started yet reads as {})."""
        async def read() -> Json:
            response = await self.http.get(f"/v1/orders/{order_id}")
            view: Json = response.json() if response.status_code == 200 else {}
            return view

        return await eventually_reads(read, lambda view: bool(view) and until(view), what, 60)

    async def ship(self, order_id: str) -> Json:
        """The DC picks, packs and ships the order's one shipment; the shipment as the order shows it."""
        view = await self.wait_for(order_id, lambda v: bool(v["shipments"]) and v["shipments"][0]["state"]
                                   == "released", "the shipment released to the DC")
        shipment_id = view["shipments"][0]["shipment_id"]
        for kind in ("picked", "packed", "shipped"):
            event = await self.http.post(f"/v1/shipments/{shipment_id}/events",
                                         json={"type": kind, "event_id": f"{shipment_id}-{kind}"})
            assert event.status_code == 202, event.text
        view = await self.wait_for(order_id, lambda v: v["shipments"][0]["state"] == "shipped", "shipped")
        shipment: Json = view["shipments"][0]
        return shipment

    async def status(self) -> ChannelWritebackStatus:
        handle = self.temporal.get_workflow_handle(channel_writeback_workflow_id(self.channel))
        result: ChannelWritebackStatus = await handle.query("status", result_type=ChannelWritebackStatus)
        return result


@pytest.fixture
async def stack(temporal_env: WorkflowEnvironment, worker_store: Store,
                sandbox: RunningSandbox) -> AsyncIterator[Stack]:
    """A shop of its own subscribed to the gateway's webhook route for a fresh channel; a worker whose
    settings write that channel back every half second; one DC near Chicago with 20 mugs."""
    channel = f"shop_{uuid.uuid4().hex[:10]}"
    secret = "shpss_" + uuid.uuid4().hex
    with SandboxServer(create_shopify_sandbox(TOKEN, webhook_attempts=3, webhook_backoff_s=0.2)) as shop:
        settings = worker_settings(sandbox, shopify_base_url=shop.url, shopify_api_key=TOKEN,
                                   shopify_writebacks=[ChannelWritebackConfig(channel=channel, poll_seconds=0.5)])
        async with running_worker(settings, client=temporal_env.client, store=worker_store):
            sdk = OmnirouteClient(temporal_env.client, task_queue=settings.task_queue)
            app = gateway_app(worker_store, sdk, shopify_webhook_secrets=json.dumps({channel: secret}))
            with SandboxServer(app) as gateway:
                async with http_to(app) as http:
                    node = {"name": "Illinois DC", "kind": "dc", "postal_code": "60106"}
                    assert (await http.put("/v1/nodes/dc-il", json=node)).status_code == 200
                    assert (await http.put(f"/v1/inventory/dc-il/{SKU}", json={"on_hand": 20})).status_code == 200
                    running = Stack(http, shop.url, channel, secret, gateway.url, worker_store, temporal_env.client)
                    await running.shop_control("POST", "webhooks", {
                        "url": f"{gateway.url}/webhooks/shopify/{channel}", "secret": secret})
                    assert await ensure_channel_writebacks(temporal_env.client, settings) == [
                        channel_writeback_workflow_id(channel)]
                    try:
                        yield running
                    finally:
                        handle = temporal_env.client.get_workflow_handle(channel_writeback_workflow_id(channel))
                        with contextlib.suppress(RPCError):
                            await handle.terminate("test over")


async def test_a_signed_checkout_becomes_an_order_that_ships_and_is_fulfilled_in_shopify_with_tracking(
        stack: Stack) -> None:
    shopify_id = await stack.checkout((SKU, 2))
    order_id = stack.order_id(shopify_id)

    view = await stack.wait_for(order_id, lambda v: bool(v["shipments"]), "the order started by orders/create")
    assert view["channel_order_id"] == str(shopify_id)
    assert [(line["sku"], line["quantity"], line["unit_price"]) for line in view["lines"]] == [(SKU, 2, 2499)]
    shipment = await stack.ship(order_id)
    assert shipment["carrier"] and shipment["tracking_number"]

    async def fulfilled() -> Json:
        order = await stack.shopify_order(shopify_id)
        return order if order["fulfillments"] else {}

    order = await eventually(fulfilled, "the fulfillment in Shopify", timeout=60)
    [made] = order["fulfillments"]
    assert (made["tracking_company"], made["tracking_number"]) == (shipment["carrier"], shipment["tracking_number"])
    assert made["line_items"] == [{"sku": SKU, "quantity": 2, "line_item_id": order["line_items"][0]["id"]}]
    assert order["fulfillment_status"] == "fulfilled"
    [record] = stack.store.writebacks(order_id=order_id)
    assert (record.outcome, record.subject) == (WritebackOutcome.WRITTEN, shipment["shipment_id"])
    await eventually(lambda: _written(stack, 1), "the write-back's status to count it")


async def _written(stack: Stack, count: int) -> bool:
    return (await stack.status()).written == count


async def test_an_orders_create_with_a_bad_signature_starts_nothing(stack: Stack) -> None:
    await stack.shop_control("DELETE", "webhooks")
    await stack.shop_control("POST", "webhooks", {"url": f"{stack.gateway_url}/webhooks/shopify/{stack.channel}",
                                                   "secret": "shpss_not_the_channels_secret"})

    shopify_id = await stack.checkout((SKU, 1))

    async def given_up() -> bool:
        return int((await stack.shop_control("GET", "webhooks"))["failed"]) >= 1

    await eventually(given_up, "the sandbox to give up on the refused webhook", timeout=30)
    response = await stack.http.get(f"/v1/orders/{stack.order_id(shopify_id)}")
    assert response.status_code == 404
    assert (await stack.shop_control("GET", "webhooks"))["delivered"] == 0


async def test_a_cancel_in_omniroute_cancels_the_order_in_shopify(stack: Stack) -> None:
    shopify_id = await stack.checkout((SKU, 1))
    order_id = stack.order_id(shopify_id)
    await stack.wait_for(order_id, lambda v: bool(v["shipments"]), "the order started")

    response = await stack.http.post(f"/v1/orders/{order_id}/cancel", json={"reason": "customer changed mind"})
    assert response.status_code == 200, response.text
    await stack.wait_for(order_id, lambda v: v["status"] == "cancelled", "the order cancelled")

    async def cancelled() -> Json:
        order = await stack.shopify_order(shopify_id)
        return order if order["cancelled_at"] else {}

    order = await eventually(cancelled, "the order cancelled in Shopify", timeout=60)
    assert order["cancel_reason"] == "other" and order["fulfillments"] == []
    assert all(fo["status"] == "CANCELLED" for fo in order["fulfillment_orders"])
    await eventually(lambda: _outcomes(stack, order_id, [WritebackOutcome.WRITTEN]), "the cancel in the ledger")

    async def echo_acknowledged() -> bool:  # Shopify's orders/cancelled for our own cancel comes back: a 2xx
        webhooks = await stack.shop_control("GET", "webhooks")
        return (webhooks["delivered"], webhooks["failed"]) == (2, 0)

    await eventually(echo_acknowledged, "orders/create and the orders/cancelled echo acknowledged")


def _outcomes(stack: Stack, order_id: str, expected: list[WritebackOutcome]) -> bool:
    return [record.outcome for record in stack.store.writebacks(order_id=order_id)] == expected


async def test_a_shopify_outage_delays_the_write_back_and_it_completes_when_shopify_answers(stack: Stack) -> None:
    shopify_id = await stack.checkout((SKU, 1))
    order_id = stack.order_id(shopify_id)
    await stack.wait_for(order_id, lambda v: bool(v["shipments"]), "the order started")
    await stack.shop_control("POST", "faults", {"status": 503, "count": 1000})
    try:
        shipment = await stack.ship(order_id)

        async def tried_a_few_times() -> bool:
            return int((await stack.shop_control("GET", "faults"))["remaining"]) <= 990

        await eventually(tried_a_few_times, "the write-back to meet the outage", timeout=60)
        assert (await stack.shopify_order(shopify_id))["fulfillments"] == []
        assert stack.store.writebacks(order_id=order_id) == []
    finally:
        await stack.shop_control("DELETE", "faults")

    async def fulfilled() -> Json:
        order = await stack.shopify_order(shopify_id)
        return order if order["fulfillments"] else {}

    order = await eventually(fulfilled, "the fulfillment once Shopify answers", timeout=90)
    assert [f["tracking_number"] for f in order["fulfillments"]] == [shipment["tracking_number"]]
    assert _outcomes(stack, order_id, [WritebackOutcome.WRITTEN])
