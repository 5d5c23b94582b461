"""The write-back ledger on SQLite and PostgreSQL (what is still to write back to a channel, once), and
the write_back activity against the Shopify sandbox over HTTP: it reads the order back before writing,
so a fulfillment Shopify already has is found, not made twice, and a refusal is recorded naming why."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from temporalio.testing import ActivityEnvironment

from activities.channel_writeback import ChannelWritebackActivities
from integrations.channels.sandbox import create_shopify_sandbox
from integrations.channels.shopify_graphql import ShopifyGraphQLClient, TrackingInfo, lines_for_fulfillment
from integrations.sandbox import SandboxServer
from models.channel_writeback import WritebackDone, WritebackKind, WritebackOutcome, WritebackTask
from models.order import OrderStatus
from models.records import OrderRecord, ShipmentRecord
from models.shipment import ShipmentLine, ShipmentState
from store import Store
from tests.fixtures.orders import an_order

TOKEN = "shpat_writeback_ledger"


def recorded_order(store: Store, channel: str, status: OrderStatus = OrderStatus.FULFILLING) -> OrderRecord:
    placed = an_order(("MUG-1", 2), ("TEE-1", 1), channel=channel)
    order = OrderRecord(order_id=f"{channel}-{placed.channel_order_id}", workflow_id=f"order-{channel}",
                        channel=channel, channel_order_id=placed.channel_order_id, status=status, currency="USD",
                        customer=placed.customer, ship_to=placed.ship_to, lines=placed.lines,
                        created_at=datetime.now(UTC))
    assert store.record_order(order)
    return order


def a_shipment(order: OrderRecord, n: int, state: ShipmentState, **fields: object) -> ShipmentRecord:
    shipment = ShipmentRecord.model_validate({
        "shipment_id": f"{order.order_id}-S{n}", "order_id": order.order_id, "node_id": "dc-il",
        "lines": [ShipmentLine(line_no=1, sku="MUG-1", quantity=1), ShipmentLine(line_no=2, sku="MUG-1", quantity=1)],
        "state": state, "carrier": "USPS", "tracking_number": f"94{n:020d}", "shipped_at": datetime.now(UTC)}
        | fields)
    return shipment


def test_what_left_the_building_and_whole_cancels_are_pending_until_recorded(store: Store) -> None:
    channel = f"shop_{uuid.uuid4().hex[:8]}"
    order = recorded_order(store, channel)
    cancelled = recorded_order(store, channel, OrderStatus.CANCELLED)
    recorded_order(store, "web", OrderStatus.CANCELLED)  # another channel's
    for n, state in enumerate([ShipmentState.SHIPPED, ShipmentState.DELIVERED, ShipmentState.PACKED], start=1):
        store.record_shipment(a_shipment(order, n, state))
    store.record_shipment(a_shipment(order, 4, ShipmentState.DELIVERED, pickup=True))

    pending = store.pending_writebacks(channel, limit=10)

    assert [(t.kind, t.subject) for t in pending] == [
        (WritebackKind.CANCEL, cancelled.order_id),
        (WritebackKind.FULFILLMENT, f"{order.order_id}-S1"), (WritebackKind.FULFILLMENT, f"{order.order_id}-S2")]
    shipped = pending[1]
    assert shipped.units == {"MUG-1": 2} and shipped.carrier == "USPS" and shipped.tracking_number == f"94{1:020d}"
    assert shipped.channel_order_id == order.channel_order_id

    done = WritebackDone(kind=WritebackKind.FULFILLMENT, subject=shipped.subject, outcome=WritebackOutcome.WRITTEN,
                         external_id="gid://shopify/Fulfillment/1")
    store.record_writeback(channel, order.order_id, done, now=datetime.now(UTC))
    store.record_writeback(channel, order.order_id, done.model_copy(update={"outcome": WritebackOutcome.FOUND}),
                           now=datetime.now(UTC))

    assert [t.subject for t in store.pending_writebacks(channel, limit=10)] == [
        cancelled.order_id, f"{order.order_id}-S2"]
    [record] = store.writebacks(order_id=order.order_id)
    assert (record.outcome, record.external_id) == (WritebackOutcome.WRITTEN, "gid://shopify/Fulfillment/1")
    assert [t.subject for t in store.pending_writebacks(channel, limit=1)] == [cancelled.order_id]


@pytest.fixture
def shop() -> Iterator[str]:
    with SandboxServer(create_shopify_sandbox(TOKEN)) as server:
        yield server.url


def shopify_order(shop: str, *lines: tuple[str, int]) -> int:
    body = {"line_items": [{"sku": sku, "quantity": qty, "price": "9.99"} for sku, qty in lines]}
    response = httpx.post(f"{shop}/_sandbox/orders", json=body, timeout=5)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def sandbox_order(shop: str, shopify_id: int) -> dict[str, Any]:
    order: dict[str, Any] = httpx.get(f"{shop}/_sandbox/orders/{shopify_id}", timeout=5).json()
    return order


def fulfillments(shop: str, shopify_id: int) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = sandbox_order(shop, shopify_id)["fulfillments"]
    return found


def a_task(shopify_id: int, channel: str, **fields: object) -> WritebackTask:
    return WritebackTask.model_validate({
        "kind": WritebackKind.FULFILLMENT, "channel": channel, "order_id": f"{channel}-{shopify_id}",
        "channel_order_id": str(shopify_id), "shipment_id": f"{channel}-{shopify_id}-S1", "carrier": "UPS",
        "tracking_number": "1Z" + uuid.uuid4().hex[:14].upper(), "units": {"MUG-1": 2}} | fields)


def activities(sqlite_store: Store, shop: str) -> tuple[ChannelWritebackActivities, ShopifyGraphQLClient]:
    client = ShopifyGraphQLClient(shop, TOKEN)
    return ChannelWritebackActivities(sqlite_store, lambda channel: client), client


def test_a_fulfillment_is_written_with_its_tracking_and_recorded(sqlite_store: Store, shop: str) -> None:
    shopify_id = shopify_order(shop, ("MUG-1", 2), ("TEE-1", 1))
    writeback, client = activities(sqlite_store, shop)
    task = a_task(shopify_id, "shop_a")

    with client:
        done = ActivityEnvironment().run(writeback.write_back, task)

    assert done.outcome == WritebackOutcome.WRITTEN and done.external_id
    [made] = fulfillments(shop, shopify_id)
    assert (made["tracking_company"], made["tracking_number"]) == ("UPS", task.tracking_number)
    assert [r.outcome for r in sqlite_store.writebacks(order_id=task.order_id)] == [WritebackOutcome.WRITTEN]


def test_a_fulfillment_shopify_already_has_is_found_not_made_twice(sqlite_store: Store, shop: str) -> None:
    shopify_id = shopify_order(shop, ("MUG-1", 2))
    writeback, client = activities(sqlite_store, shop)
    task = a_task(shopify_id, "shop_b")
    with client:
        state = client.order_state(shopify_id)  # an earlier attempt wrote it, and its answer was lost
        assert state is not None
        client.create_fulfillment(lines_for_fulfillment(state, {"MUG-1": 2}),
                                  TrackingInfo(company="UPS", number=task.tracking_number))

        done = ActivityEnvironment().run(writeback.write_back, task)

    assert done.outcome == WritebackOutcome.FOUND
    assert len(fulfillments(shop, shopify_id)) == 1
    assert [r.outcome for r in sqlite_store.writebacks(order_id=task.order_id)] == [WritebackOutcome.FOUND]


def test_a_write_the_shop_refuses_is_recorded_with_the_reason(sqlite_store: Store, shop: str) -> None:
    shopify_id = shopify_order(shop, ("MUG-1", 1))
    writeback, client = activities(sqlite_store, shop)
    task = a_task(shopify_id, "shop_c", units={"MUG-1": 1, "HAT-9": 1})

    with client:
        done = ActivityEnvironment().run(writeback.write_back, task)

    assert done.outcome == WritebackOutcome.REFUSED and "HAT-9" in done.detail
    assert fulfillments(shop, shopify_id) == []
    [record] = sqlite_store.writebacks(order_id=task.order_id)
    assert record.outcome == WritebackOutcome.REFUSED and "line_items.sku=HAT-9" in record.detail


def test_a_cancel_is_written_once_and_found_the_second_time(sqlite_store: Store, shop: str) -> None:
    shopify_id = shopify_order(shop, ("MUG-1", 1))
    writeback, client = activities(sqlite_store, shop)
    task = WritebackTask(kind=WritebackKind.CANCEL, channel="shop_d", order_id=f"shop_d-{shopify_id}",
                         channel_order_id=str(shopify_id))

    with client:
        first = ActivityEnvironment().run(writeback.write_back, task)
        second = ActivityEnvironment().run(writeback.write_back, task)

    assert (first.outcome, second.outcome) == (WritebackOutcome.WRITTEN, WritebackOutcome.FOUND)
    seen = sandbox_order(shop, shopify_id)
    assert seen["cancelled_at"] is not None and seen["cancel_reason"] == "other"
    assert [r.outcome for r in sqlite_store.writebacks(order_id=task.order_id)] == [WritebackOutcome.WRITTEN]
