"""Events reach the retailer's systems: a real worker on the dev server runs the event dispatcher and the
delivery workflows, subscriptions are made through the gateway, and a local receiver checks every webhook
with the standardwebhooks library. The dispatcher ticks every 0.3 s and retries wait 0.5 s, 1 s, 1 s here
(the schedule is an input of the dispatcher, Standard Webhooks' 3 days by default)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from standardwebhooks import Webhook

from models.events import DeliveryState
from tests.fixtures.event_receiver import EventReceiver, Received, event_receiver
from tests.fixtures.events import an_order
from tests.fixtures.eventually import eventually, eventually_reads
from tests.fixtures.gateway import gateway_for
from tests.fixtures.network import add_node
from tests.fixtures.orders import an_order as an_order_to_place
from tests.fixtures.temporal import RunningWorker
from tests.fixtures.workflows import all_released, wait_for, warehouse_ships
from workers.events import ensure_event_dispatcher

WAITS = [0.5, 1.0, 1.0]


@pytest.fixture
async def dispatching(omniroute_worker: RunningWorker) -> AsyncIterator[RunningWorker]:
    """The worker with its event dispatcher running (terminated at the end: it never ends by itself)."""
    w = omniroute_worker
    settings = w.settings.model_copy(update={"events_dispatch_seconds": 0.3, "events_retry_waits": WAITS})
    workflow_id = await ensure_event_dispatcher(w.temporal, settings)
    try:
        yield w
    finally:
        await w.temporal.get_workflow_handle(workflow_id).terminate("test over")


@pytest.fixture
def receiver() -> Iterator[EventReceiver]:
    with event_receiver() as running:
        yield running


@pytest.fixture
async def gateway(dispatching: RunningWorker) -> AsyncIterator[httpx.AsyncClient]:
    async with gateway_for(dispatching.store, dispatching.sdk) as http:
        yield http


async def subscribe(gateway: httpx.AsyncClient, url: str, *types: str) -> tuple[str, str]:
    response = await gateway.post("/v1/subscriptions", json={"url": url, "event_types": list(types)})
    assert response.status_code == 201, response.text
    return response.json()["subscription_id"], response.json()["secret"]


def verified(secret: str, received: Received) -> dict[str, Any]:
    """The event, once its Standard Webhooks signature and timestamp check out (else the library raises)."""
    event: dict[str, Any] = Webhook(secret).verify(received.body, received.headers)
    return event


async def log_of(gateway: httpx.AsyncClient, subscription_id: str) -> list[dict[str, Any]]:
    response = await gateway.get(f"/v1/subscriptions/{subscription_id}/deliveries")
    assert response.status_code == 200, response.text
    deliveries: list[dict[str, Any]] = response.json()["deliveries"]
    return deliveries


async def test_an_order_placed_and_shipped_reaches_the_receiver_signed(
        dispatching: RunningWorker, gateway: httpx.AsyncClient, receiver: EventReceiver) -> None:
    w = dispatching
    wanted = ["order.accepted", "shipment.released", "shipment.shipped", "shipment.delivered"]
    _, secret = await subscribe(gateway, receiver.url("erp"), *wanted)
    _, stock_secret = await subscribe(gateway, receiver.url("stock"), "inventory.changed")
    add_node(w.store, "dc-il", "60106")
    w.store.set_on_hand("dc-il", "SKU-EV1", 5, source="test")
    order = an_order_to_place(("SKU-EV1", 2))

    await w.sdk.place_order(order)
    view = await wait_for(w, order.order_id, all_released)
    await warehouse_ships(w, view.shipments[0].shipment_id)

    def arrived() -> list[dict[str, Any]]:
        events = [verified(secret, r) for r in receiver.delivered("erp")]
        return events if {e["type"] for e in events} >= set(wanted) else []

    events = await eventually(arrived, "order.accepted and the shipment's events at the receiver")
    by_type = {e["type"]: e for e in events if e["data"].get("order_id") == order.order_id}
    assert set(by_type) == set(wanted)
    assert by_type["shipment.shipped"]["data"]["shipment_id"] == view.shipments[0].shipment_id
    assert by_type["shipment.delivered"]["data"]["state"] == "delivered"
    assert order.customer.email not in str(events)
    ids = [r.headers["webhook-id"] for r in receiver.delivered("erp")]
    assert len(ids) == len(set(ids))  # each event once

    def stock_shipped() -> list[dict[str, Any]]:  # the position once the shipment's units left it
        return [e["data"] for e in (verified(stock_secret, r) for r in receiver.delivered("stock"))
                if e["data"]["node_id"] == "dc-il" and e["data"]["sku"] == "SKU-EV1"
                and (e["data"]["on_hand"], e["data"]["reserved"]) == (3, 0)]

    positions = await eventually(stock_shipped, "inventory.changed for the shipped units")
    assert positions[-1]["atp"] == 3


async def test_a_failing_receiver_is_retried_with_backoff_and_the_log_shows_each_attempt(
        dispatching: RunningWorker, gateway: httpx.AsyncClient, receiver: EventReceiver) -> None:
    receiver.answer_first("flaky", 500, 503)
    subscription_id, secret = await subscribe(gateway, receiver.url("flaky"), "order.accepted")

    dispatching.store.record_order(an_order(f"web-{uuid.uuid4().hex[:8]}"))

    [log] = await eventually_reads(lambda: log_of(gateway, subscription_id),
                                   lambda log: len(log) == 1 and log[0]["state"] == "succeeded",
                                   "the delivery succeeded", timeout=30)
    posts = receiver.received("flaky")
    assert [p.status for p in posts] == [500, 503, 200]
    assert len({p.headers["webhook-id"] for p in posts}) == 1
    assert verified(secret, posts[-1])["type"] == "order.accepted"
    attempts = log["attempts"]
    assert [(a["attempt"], a["http_status"]) for a in attempts] == [(1, 500), (2, 503), (3, 200)]
    assert attempts[0]["error"] and attempts[2]["error"] is None
    times = [datetime.fromisoformat(a["attempted_at"]) for a in attempts]
    assert times[1] - times[0] >= timedelta(seconds=WAITS[0])
    assert times[2] - times[1] >= timedelta(seconds=WAITS[1])


async def test_a_receivers_retry_after_lengthens_the_wait(
        dispatching: RunningWorker, gateway: httpx.AsyncClient, receiver: EventReceiver) -> None:
    receiver.answer_first("throttled", 429, retry_after="3")
    subscription_id, _ = await subscribe(gateway, receiver.url("throttled"), "order.accepted")

    dispatching.store.record_order(an_order(f"web-{uuid.uuid4().hex[:8]}"))

    [log] = await eventually_reads(lambda: log_of(gateway, subscription_id),
                                   lambda log: len(log) == 1 and log[0]["state"] == "succeeded")
    first, second = (datetime.fromisoformat(a["attempted_at"]) for a in log["attempts"])
    assert [a["http_status"] for a in log["attempts"]] == [429, 200]
    assert second - first >= timedelta(seconds=3)  # not the schedule's 0.5 s


async def test_every_worker_starting_the_dispatcher_makes_one_run(dispatching: RunningWorker) -> None:
    w = dispatching
    workflow_id = f"event-dispatch-{w.task_queue}"
    before = await w.temporal.get_workflow_handle(workflow_id).describe()

    again = await ensure_event_dispatcher(w.temporal, w.settings)
    after = await w.temporal.get_workflow_handle(again).describe()

    assert again == workflow_id
    assert after.run_id == before.run_id  # the running dispatcher was kept, not replaced
    assert after.status is not None and after.status.name == "RUNNING"


async def test_a_replay_sends_the_same_event_again_under_the_same_webhook_id(
        dispatching: RunningWorker, gateway: httpx.AsyncClient, receiver: EventReceiver) -> None:
    subscription_id, secret = await subscribe(gateway, receiver.url("replayed"), "order.accepted")
    dispatching.store.record_order(an_order(f"web-{uuid.uuid4().hex[:8]}"))
    [first] = await eventually_reads(lambda: log_of(gateway, subscription_id),
                                     lambda log: bool(log) and log[0]["state"] == "succeeded")

    replay = await gateway.post(f"/v1/subscriptions/{subscription_id}/deliveries/{first['delivery_id']}/replay")
    assert replay.status_code == 202, replay.text

    log = await eventually_reads(lambda: log_of(gateway, subscription_id),
                                 lambda log: len(log) == 2 and log[0]["state"] == "succeeded")
    posts = receiver.delivered("replayed")
    assert len(posts) == 2
    assert posts[0].headers["webhook-id"] == posts[1].headers["webhook-id"] == first["event_id"]
    assert verified(secret, posts[0]) == verified(secret, posts[1])
    assert (log[0]["replay_of"], len(log[0]["attempts"])) == (first["delivery_id"], 1)


async def test_a_disabled_subscription_gets_nothing_and_a_410_disables_one(
        dispatching: RunningWorker, gateway: httpx.AsyncClient, receiver: EventReceiver) -> None:
    on, _ = await subscribe(gateway, receiver.url("on"), "order.accepted")
    off, _ = await subscribe(gateway, receiver.url("off"), "order.accepted")
    gone, _ = await subscribe(gateway, receiver.url("gone"), "order.accepted")
    receiver.answer_first("gone", 410)
    assert (await gateway.patch(f"/v1/subscriptions/{off}", json={"enabled": False})).status_code == 200

    dispatching.store.record_order(an_order(f"web-{uuid.uuid4().hex[:8]}"))

    await eventually(lambda: receiver.delivered("on"), "the enabled subscription's delivery")
    [ended] = await eventually_reads(lambda: log_of(gateway, gone), lambda log: bool(log) and
                                     log[0]["state"] == DeliveryState.GONE.value)
    assert receiver.received("off") == []
    assert await log_of(gateway, off) == []
    assert [a["http_status"] for a in ended["attempts"]] == [410]
    after = (await gateway.get(f"/v1/subscriptions/{gone}")).json()
    assert (after["enabled"], after["disabled_reason"]) == (False, "the receiver answered 410 Gone")
