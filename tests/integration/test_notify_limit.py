"""The notify activity against the SendGrid sandbox over HTTP and a real app DB: at most N messages of a
kind to one recipient an hour; the next is suppressed (answered, not failed: nothing to retry, nothing
sent), another recipient is not, and an hour later the recipient gets messages again."""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from temporalio.testing import ActivityEnvironment

from activities.notify import SUPPRESSED, NotifyActivities, recipient_key
from integrations.notify.sendgrid import SendGridClient
from models.notify import Notification, NotificationKind
from store import Store
from tests.fixtures.sandbox import RunningSandbox

LIMIT = 10


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def mail(sandbox: RunningSandbox) -> Iterator[SendGridClient]:
    client = SendGridClient(sandbox.sendgrid_url, "SG.omniroute-sandbox")
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def notify(mail: SendGridClient, sqlite_store: Store, clock: Clock) -> NotifyActivities:
    return NotifyActivities(mail, "orders@shop.example", sqlite_store, ledger=sqlite_store, per_hour=LIMIT, clock=clock)


def an_address() -> str:
    return f"customer-{uuid.uuid4().hex[:10]}@example.com"


def rejected(to: str, number: int) -> Notification:
    return Notification(kind=NotificationKind.RETURN_REJECTED, to_email=to, to_name="Ada",
                        reference=f"RMA-{number}", facts={"reason": "not delivered"})


def send(notify: NotifyActivities, notification: Notification, *, attempt: int = 1) -> str:
    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, attempt=attempt)
    result: str = env.run(notify.notify, notification)
    return result


def test_the_eleventh_message_within_the_hour_is_suppressed_and_not_sent(
    notify: NotifyActivities, sandbox: RunningSandbox, clock: Clock
) -> None:
    victim = an_address()
    sent = []
    for number in range(LIMIT):
        sent.append(send(notify, rejected(victim, number)))
        clock.now += timedelta(minutes=5)

    eleventh = send(notify, rejected(victim, LIMIT))

    assert eleventh == SUPPRESSED, "answered, not raised: nothing retries it and the workflow goes on"
    assert SUPPRESSED not in sent, "the first ten got the provider's message ids"
    assert [m["message_id"] for m in sandbox.messages(to=victim)] == sent


def test_another_recipient_and_another_kind_are_not_held_back(notify: NotifyActivities,
                                                              sandbox: RunningSandbox) -> None:
    victim, other = an_address(), an_address()
    for number in range(LIMIT):
        send(notify, rejected(victim, number))

    assert send(notify, rejected(other, 0)) != SUPPRESSED
    assert send(notify, rejected(victim, 99).model_copy(update={"kind": NotificationKind.REFUND_ISSUED})) != SUPPRESSED

    assert len(sandbox.messages(to=other)) == 1
    assert len(sandbox.messages(to=victim)) == LIMIT + 1


def test_an_hour_after_the_first_message_the_recipient_gets_messages_again(
    notify: NotifyActivities, sandbox: RunningSandbox, clock: Clock
) -> None:
    victim = an_address()
    start = clock.now
    for number in range(LIMIT):
        send(notify, rejected(victim, number))
    clock.now = start + timedelta(minutes=59)
    assert send(notify, rejected(victim, LIMIT)) == SUPPRESSED

    clock.now = start + timedelta(hours=1)
    assert send(notify, rejected(victim, LIMIT + 1)) != SUPPRESSED

    assert len(sandbox.messages(to=victim)) == LIMIT + 1


def test_one_recipient_is_one_address_however_it_is_written(notify: NotifyActivities, sandbox: RunningSandbox) -> None:
    victim = an_address()
    for number in range(LIMIT):
        send(notify, rejected(victim if number % 2 else victim.upper(), number))

    assert send(notify, rejected(victim, LIMIT)) == SUPPRESSED


def test_a_retry_is_the_same_message_and_is_not_counted_again(notify: NotifyActivities, sqlite_store: Store) -> None:
    victim = an_address()
    message = rejected(victim, 0)

    send(notify, message)
    send(notify, message, attempt=2)
    send(notify, message, attempt=3)

    usage = sqlite_store.notification_usage(recipient_key(victim), NotificationKind.RETURN_REJECTED.value)
    assert usage is not None and usage.window_sent == 1


def test_the_count_is_kept_under_a_hash_and_no_log_names_the_recipient(
    notify: NotifyActivities, sqlite_store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    victim = an_address()
    with caplog.at_level(logging.DEBUG):
        for number in range(LIMIT + 2):
            send(notify, rejected(victim, number))

    usage = sqlite_store.notification_usage(recipient_key(victim), NotificationKind.RETURN_REJECTED.value)
    assert usage is not None and (usage.window_sent, usage.suppressed_total) == (LIMIT, 2)
    assert "suppressed" in caplog.text, "the suppression is logged"
    assert victim not in caplog.text and victim.split("@")[0] not in caplog.text
