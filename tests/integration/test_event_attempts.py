"""One delivery attempt (activities/events.py) against a real store and a real receiver over HTTP, outside
any workflow: what it sends, what it logs, and when it sends nothing."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from standardwebhooks import Webhook
from temporalio.client import Client

from activities.events import EventActivities
from integrations.webhooks.events import EventSender
from models.events import AttemptDelivery, AttemptOutcome, DeliveryState, EventType
from omniroute.config.codec_keys import DEV_KEY_RING
from omniroute.config.sealed_secrets import new_signing_secret, open_sealed, seal
from store import Store
from tests.fixtures.event_receiver import EventReceiver, event_receiver
from tests.fixtures.events import an_order
from tests.fixtures.gateway import closed_port_address


@pytest.fixture
def receiver() -> Iterator[EventReceiver]:
    with event_receiver() as running:
        yield running


@pytest.fixture
async def activities(sqlite_store: Store) -> AsyncIterator[EventActivities]:
    sender = EventSender(timeout=5.0)
    nobody = await Client.connect(closed_port_address(), lazy=True)  # attempts never start workflows
    try:
        yield EventActivities(sqlite_store, sender, lambda owner, sealed: open_sealed(DEV_KEY_RING, owner, sealed),
                              nobody)
    finally:
        sender.close()


def a_delivery(store: Store, url: str) -> tuple[str, str, str]:
    """(subscription id, its secret, the delivery of a new order's order.accepted to it)."""
    subscription_id, secret = f"sub_{uuid.uuid4().hex[:16]}", new_signing_secret()
    store.create_subscription(subscription_id, url, [EventType.ORDER_ACCEPTED], None,
                              seal(DEV_KEY_RING, subscription_id, secret))
    store.record_order(an_order(f"web-{uuid.uuid4().hex[:8]}"))
    store.fan_out_events()
    return subscription_id, secret, store.pending_deliveries()[-1]


def test_an_attempt_posts_the_signed_event_and_logs_it(sqlite_store: Store, activities: EventActivities,
                                                       receiver: EventReceiver) -> None:
    subscription_id, secret, delivery = a_delivery(sqlite_store, receiver.url("erp"))

    result = activities.attempt_delivery(AttemptDelivery(delivery_id=delivery, attempt=1))

    [post] = receiver.received("erp")
    event = Webhook(secret).verify(post.body, post.headers)
    logged = sqlite_store.get_delivery(subscription_id, delivery)
    assert result.outcome is AttemptOutcome.DELIVERED
    assert event["type"] == "order.accepted"
    assert logged is not None and logged.state is DeliveryState.SUCCEEDED
    assert post.headers["webhook-id"] == logged.event_id
    assert [(a.attempt, a.http_status, a.error) for a in logged.attempts] == [(1, 200, None)]


def test_a_receiver_out_of_reach_is_a_failed_attempt_logged_without_a_status(
        sqlite_store: Store, activities: EventActivities) -> None:
    subscription_id, _, delivery = a_delivery(sqlite_store, f"http://{closed_port_address()}/hooks")

    first = activities.attempt_delivery(AttemptDelivery(delivery_id=delivery, attempt=1))
    last = activities.attempt_delivery(AttemptDelivery(delivery_id=delivery, attempt=2, final=True))

    logged = sqlite_store.get_delivery(subscription_id, delivery)
    assert (first.outcome, last.outcome) == (AttemptOutcome.FAILED, AttemptOutcome.FAILED)
    assert logged is not None and logged.state is DeliveryState.FAILED
    assert [a.http_status for a in logged.attempts] == [None, None]
    assert all("ConnectError" in (a.error or "") for a in logged.attempts)


def test_a_disabled_or_deleted_subscription_is_sent_nothing(sqlite_store: Store, activities: EventActivities,
                                                            receiver: EventReceiver) -> None:
    disabled, _, first = a_delivery(sqlite_store, receiver.url("disabled"))
    sqlite_store.update_subscription(disabled, {"enabled": False})
    deleted, _, second = a_delivery(sqlite_store, receiver.url("deleted"))
    sqlite_store.delete_subscription(deleted)

    on_disabled = activities.attempt_delivery(AttemptDelivery(delivery_id=first, attempt=2))
    on_deleted = activities.attempt_delivery(AttemptDelivery(delivery_id=second, attempt=2))

    assert (on_disabled.outcome, on_deleted.outcome) == (AttemptOutcome.CANCELLED, AttemptOutcome.CANCELLED)
    assert receiver.received("disabled") == [] and receiver.received("deleted") == []
    logged = sqlite_store.get_delivery(disabled, first)
    assert logged is not None and logged.state is DeliveryState.CANCELLED and logged.attempts == []
