"""Messages the provider did not take are sent again later, once: the notify activity and the message retry
sweep's step against the SendGrid and Twilio sandboxes over HTTP and a real app DB (SQLite and PostgreSQL),
on a clock the test moves. What became of each message sent later is on its order's timeline."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.message_retry import MessageRetryActivities
from activities.notify import NotifyActivities
from gateway.timeline import OrderSources, order_timeline
from integrations.http import NO_RETRY, TransientProviderError
from integrations.notify.sendgrid import SendGridClient
from integrations.notify.twilio import TwilioClient
from integrations.notify.twilio_sandbox import DEV_TWILIO_ACCOUNT_SID, DEV_TWILIO_AUTH_TOKEN
from models.address import Address
from models.audit import AuditEntry, AuditFilter, AuditKind
from models.message_retry import MessageRetryBatch, MessageRetryResult
from models.notify import MessageChannel, Notification, NotificationKind
from models.order import Customer, OrderLineIn, OrderStatus
from models.records import OrderRecord
from models.timeline import TimelineKind
from omniroute.devstack.ports import free_port
from sourcing.message_retry import MessageRetryPolicy
from store import Store
from store.ports import MessageRecord, MessageState
from tests.fixtures.sandbox import RunningSandbox

SENDER = "+15005550006"
POLICY = MessageRetryPolicy(first_wait=timedelta(minutes=5), longest_wait=timedelta(hours=1),
                            give_up_after=timedelta(hours=24), lease=timedelta(minutes=10))


class Clock:
    """The activities' clock, moved by the test."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, by: timedelta) -> datetime:
        self.now += by
        return self.now


class WorkerKilled(BaseException):
    """The worker died: nothing after this point of the activity ran."""


class DyingLedger:
    """The real ledger (the Store), except that the worker dies right after the provider took the SMS and
    before the ledger records it `sent`."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.die_before_sms_sent = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def finish_message(self, key: str, channel: str, state: MessageState, **kwargs: Any) -> None:
        if self.die_before_sms_sent and state is MessageState.SENT and channel == MessageChannel.SMS.value:
            self.die_before_sms_sent = False
            raise WorkerKilled
        self.store.finish_message(key, channel, state, **kwargs)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ledger(store: Store) -> DyingLedger:
    return DyingLedger(store)


@pytest.fixture
def notify(sandbox: RunningSandbox, store: Store, ledger: DyingLedger, clock: Clock) -> Iterator[NotifyActivities]:
    with SendGridClient(sandbox.sendgrid_url, sandbox.sendgrid_key, retry=NO_RETRY) as mail, \
            TwilioClient(f"{sandbox.url}/twilio", DEV_TWILIO_ACCOUNT_SID, DEV_TWILIO_AUTH_TOKEN, SENDER,
                         retry=NO_RETRY) as sms:
        yield NotifyActivities(mail, "orders@shop.example", store, ledger=ledger, sms=sms, per_hour=1000,
                               clock=clock, retry=POLICY)


@pytest.fixture
def sweep(notify: NotifyActivities, store: Store, ledger: DyingLedger, clock: Clock) -> MessageRetryActivities:
    return MessageRetryActivities(notify, ledger=ledger, retries=store, policy=POLICY, clock=clock)


@pytest.fixture(autouse=True)
def no_faults_left(sandbox: RunningSandbox) -> Iterator[None]:
    yield
    for provider in ("sendgrid", "twilio"):
        httpx.delete(f"{sandbox.url}/{provider}/_sandbox/faults", timeout=5).raise_for_status()


def fail_next(sandbox: RunningSandbox, provider: str, *, status: int = 503, count: int = 1) -> None:
    httpx.post(f"{sandbox.url}/{provider}/_sandbox/faults", json={"status": status, "count": count},
               timeout=5).raise_for_status()


def an_order_shipped(store: Store, *, sms: bool = True) -> Notification:
    """An order in the read model, and its `shipped` message (by SMS too when `sms`)."""
    order_id = f"web-{uuid.uuid4().hex[:10]}"
    email, phone = f"c-{order_id}@example.com", "+1415" + str(uuid.uuid4().int)[:7]
    store.record_order(OrderRecord(
        order_id=order_id, workflow_id=f"order-{order_id}", channel="web", channel_order_id=order_id,
        status=OrderStatus.FULFILLING, currency="USD", customer=Customer(email=email, name="Ada"),
        ship_to=Address(name="Ada", line1="1 Main St", city="Chicago", region="IL", postal_code="60601"),
        lines=[OrderLineIn(sku="SKU-1", quantity=1, unit_price=1999)], created_at=datetime.now(UTC)))
    return Notification(kind=NotificationKind.SHIPPED, to_email=email, to_name="Ada", reference=order_id,
                        facts={"shipment": f"{order_id}-S1", "tracking_number": "EZ1", "carrier": "USPS"},
                        to_phone=phone if sms else None, sms=sms,
                        idempotency_key=f"order-{order_id}/shipped/{order_id}-S1")


def run_notify(notify: NotifyActivities, note: Notification) -> str:
    result: str = ActivityEnvironment().run(notify.notify, note)
    return result


def run_sweep(sweep: MessageRetryActivities, now: datetime) -> MessageRetryResult:
    result: MessageRetryResult = ActivityEnvironment().run(sweep.retry_due_messages, MessageRetryBatch(now=now))
    return result


def emails(sandbox: RunningSandbox, note: Notification) -> list[dict[str, Any]]:
    return [m for m in sandbox.messages(to=note.to_email) if m["custom_args"]["message_key"] == note.idempotency_key]


def texts(sandbox: RunningSandbox, note: Notification) -> list[dict[str, Any]]:
    response = httpx.get(f"{sandbox.url}/twilio/_sandbox/messages", params={"to": note.to_phone}, timeout=5)
    response.raise_for_status()
    return list(response.json())


def row(store: Store, note: Notification, channel: MessageChannel = MessageChannel.EMAIL) -> MessageRecord:
    found = store.message_record(str(note.idempotency_key), channel.value)
    assert found is not None
    return found


def message_events(store: Store, note: Notification) -> list[AuditEntry]:
    return store.audit_entries(AuditFilter(kind=AuditKind.MESSAGE_EVENT, order_id=note.reference))


def timeline_says(store: Store, note: Notification) -> list[str]:
    timeline = order_timeline(note.reference, OrderSources(audit=message_events(store, note)), None,
                              live_view_read=False)
    return [event.summary for event in timeline.events if event.kind is TimelineKind.MESSAGE]


def test_a_message_the_provider_did_not_take_is_kept_and_sent_once_when_its_next_attempt_comes(
        notify: NotifyActivities, sweep: MessageRetryActivities, sandbox: RunningSandbox, store: Store,
        clock: Clock) -> None:
    note = an_order_shipped(store)
    fail_next(sandbox, "sendgrid")

    with pytest.raises(TransientProviderError):
        run_notify(notify, note)

    failed = row(store, note)
    assert failed.state is MessageState.FAILED and failed.next_attempt_at == clock.now + POLICY.first_wait
    assert Notification.model_validate_json(failed.notification or "") == note, "the ledger keeps the message"
    assert run_sweep(sweep, clock.advance(timedelta(minutes=4))).tried == 0, "not before its next attempt"

    result = run_sweep(sweep, clock.advance(timedelta(minutes=2)))

    assert (result.tried, result.sent) == (1, 1)
    assert len(emails(sandbox, note)) == 1 and len(texts(sandbox, note)) == 1
    sent = row(store, note)
    assert (sent.state, sent.attempts, sent.next_attempt_at) == (MessageState.SENT, 2, None)
    assert sorted(timeline_says(store, note)) == ["shipped SMS sent after 1 attempt",
                                                  "shipped e-mail sent after 2 attempts"]
    assert run_sweep(sweep, clock.advance(timedelta(hours=2))).tried == 0
    assert run_notify(notify, note) == sent.provider_message_id, "the order's own rerun finds it sent"
    assert len(emails(sandbox, note)) == 1 and len(texts(sandbox, note)) == 1, "and nothing goes twice"


def test_an_sms_that_failed_after_the_email_went_is_sent_later_without_a_second_email(
        notify: NotifyActivities, sweep: MessageRetryActivities, sandbox: RunningSandbox, store: Store,
        clock: Clock) -> None:
    note = an_order_shipped(store)
    fail_next(sandbox, "twilio")

    with pytest.raises(TransientProviderError):
        run_notify(notify, note)
    assert row(store, note, MessageChannel.SMS).state is MessageState.FAILED

    result = run_sweep(sweep, clock.advance(timedelta(minutes=6)))

    assert (result.tried, result.sent) == (1, 1)
    assert len(emails(sandbox, note)) == 1 and len(texts(sandbox, note)) == 1
    assert row(store, note).attempts == 1, "the e-mail the ledger knows went is not sent again"
    assert timeline_says(store, note) == ["shipped SMS sent after 2 attempts"]


def test_a_message_failing_again_waits_longer_each_time_and_is_abandoned_after_a_day(
        notify: NotifyActivities, sweep: MessageRetryActivities, sandbox: RunningSandbox, store: Store,
        clock: Clock) -> None:
    note = an_order_shipped(store, sms=False)
    first_tried = clock.now
    fail_next(sandbox, "sendgrid", count=1000)
    with pytest.raises(TransientProviderError):
        run_notify(notify, note)

    waits = []
    for _ in range(3):
        attempt_at = row(store, note).next_attempt_at
        assert attempt_at is not None
        clock.now = attempt_at
        assert run_sweep(sweep, clock.now).failed == 1
        next_at = row(store, note).next_attempt_at
        assert next_at is not None
        waits.append(next_at - clock.now)
    clock.now = first_tried + POLICY.give_up_after
    result = run_sweep(sweep, clock.now)

    assert waits == [timedelta(minutes=5), timedelta(minutes=10), timedelta(minutes=20)]
    assert result.abandoned == 1
    abandoned = row(store, note)
    assert (abandoned.state, abandoned.next_attempt_at) == (MessageState.ABANDONED, None)
    assert emails(sandbox, note) == []
    assert run_sweep(sweep, clock.advance(timedelta(days=2))).tried == 0, "an abandoned message is left alone"
    assert timeline_says(store, note) == [f"shipped e-mail abandoned after 24 h ({abandoned.attempts} attempts)"]


def test_a_message_the_provider_refused_is_not_tried_again(
        notify: NotifyActivities, sweep: MessageRetryActivities, sandbox: RunningSandbox, store: Store,
        clock: Clock) -> None:
    note = an_order_shipped(store, sms=False)
    fail_next(sandbox, "sendgrid", status=400)

    with pytest.raises(ApplicationError):
        run_notify(notify, note)

    assert row(store, note).state is MessageState.REJECTED
    assert run_sweep(sweep, clock.advance(timedelta(days=1))).tried == 0


def test_an_sms_left_sending_by_a_dead_worker_is_found_at_twilio_once_its_lease_is_over(
        notify: NotifyActivities, sweep: MessageRetryActivities, ledger: DyingLedger, sandbox: RunningSandbox,
        store: Store, clock: Clock) -> None:
    note = an_order_shipped(store)
    ledger.die_before_sms_sent = True

    with pytest.raises(WorkerKilled):
        run_notify(notify, note)
    assert row(store, note, MessageChannel.SMS).state is MessageState.SENDING

    assert run_sweep(sweep, clock.advance(timedelta(minutes=5))).tried == 0, "its attempt may still be running"
    result = run_sweep(sweep, clock.advance(timedelta(minutes=6)))

    assert result.sent == 1
    [text] = texts(sandbox, note)
    found = row(store, note, MessageChannel.SMS)
    assert (found.state, found.provider_message_id, found.uncertain_resends) == (MessageState.SENT, text["sid"], 0)


def test_an_sms_that_got_no_answer_stays_sending_and_is_looked_up_at_twilio_before_it_goes_again(
        sandbox: RunningSandbox, sweep: MessageRetryActivities, store: Store, clock: Clock) -> None:
    note = an_order_shipped(store)
    nobody_listens = f"http://127.0.0.1:{free_port()}/twilio"
    with SendGridClient(sandbox.sendgrid_url, sandbox.sendgrid_key, retry=NO_RETRY) as mail, \
            TwilioClient(nobody_listens, DEV_TWILIO_ACCOUNT_SID, DEV_TWILIO_AUTH_TOKEN, SENDER) as lost:
        cut_off = NotifyActivities(mail, "orders@shop.example", store, ledger=store, sms=lost, per_hour=1000,
                                   clock=clock, retry=POLICY)
        with pytest.raises(TransientProviderError):
            run_notify(cut_off, note)

    unanswered = row(store, note, MessageChannel.SMS)
    assert (unanswered.state, unanswered.next_attempt_at) == (MessageState.SENDING, clock.now + POLICY.first_wait)

    assert run_sweep(sweep, clock.advance(POLICY.first_wait)).sent == 1

    [text] = texts(sandbox, note)
    sent = row(store, note, MessageChannel.SMS)
    assert (sent.state, sent.provider_message_id, sent.uncertain_resends) == (MessageState.SENT, text["sid"], 0)
    assert len(emails(sandbox, note)) == 1


def test_two_attempts_that_read_one_failed_message_never_both_take_it(store: Store) -> None:
    key, now = f"k-{uuid.uuid4().hex}", datetime.now(UTC)
    store.begin_message(key, "email", kind="shipped", recipient="digest", language="en", now=now, notification="{}")
    store.finish_message(key, "email", MessageState.FAILED, now=now, next_attempt_at=now)
    read_by_both = row_of(store, key)

    first = store.resend_message(key, "email", uncertain=False, now=now, expected_attempts=read_by_both.attempts)
    second = store.resend_message(key, "email", uncertain=False, now=now, expected_attempts=read_by_both.attempts)

    assert (first, second) == (True, False)
    assert row_of(store, key).attempts == read_by_both.attempts + 1


def test_a_kept_message_this_code_cannot_read_is_abandoned(sweep: MessageRetryActivities, store: Store,
                                                           clock: Clock) -> None:
    key = f"k-{uuid.uuid4().hex}"
    store.begin_message(key, "email", kind="shipped", recipient="digest", language="en", now=clock.now,
                        notification='{"kind": "no such kind"}')
    store.finish_message(key, "email", MessageState.FAILED, now=clock.now, next_attempt_at=clock.now)

    assert run_sweep(sweep, clock.now).abandoned == 1
    assert row_of(store, key).state is MessageState.ABANDONED


def test_a_message_kept_without_its_content_is_never_due(store: Store) -> None:
    """Rows written before the ledger kept messages cannot be sent again; the sweep leaves them."""
    key, now = f"k-{uuid.uuid4().hex}", datetime.now(UTC)
    store.begin_message(key, "email", kind="shipped", recipient="digest", language="en", now=now)
    store.finish_message(key, "email", MessageState.FAILED, now=now, next_attempt_at=now)

    assert [r.key for r in store.messages_due(now + timedelta(days=1), limit=1000) if r.key == key] == []


def row_of(store: Store, key: str) -> MessageRecord:
    found = store.message_record(key, "email")
    assert found is not None
    return found
