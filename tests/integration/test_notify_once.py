"""Each customer message goes out once: the notify activity against the SendGrid and Twilio sandboxes over
HTTP and a real app DB (SQLite and PostgreSQL), with provider faults, retries, reruns, and a worker killed
between the provider's accept and our `sent` record, the one place a duplicate is left, and counted."""

from __future__ import annotations

import dataclasses
import random
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.notify import NotifyActivities
from integrations.http import NO_RETRY, TransientProviderError
from integrations.notify.sendgrid import SendGridClient
from integrations.notify.twilio import TwilioClient
from integrations.notify.twilio_sandbox import DEV_TWILIO_ACCOUNT_SID, DEV_TWILIO_AUTH_TOKEN
from models.notify import MessageChannel, Notification, NotificationKind
from store import Store
from store.ports import MessageRecord, MessageState
from tests.fixtures.sandbox import RunningSandbox

SENDER = "+15005550006"


class WorkerKilled(BaseException):
    """The worker died: nothing after this point of the activity ran."""


class KillableLedger:
    """The real ledger (the Store), except that the worker can be killed right after the provider accepted
    a message and before the ledger records it `sent`: the at-least-once edge."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.kill_before_sent: set[str] = set()

    def begin_message(self, key: str, channel: str, *, kind: str, recipient: str, language: str, now: datetime,
                      notification: str | None = None, lease_until: datetime | None = None) -> MessageRecord | None:
        return self.store.begin_message(key, channel, kind=kind, recipient=recipient, language=language, now=now,
                                        notification=notification, lease_until=lease_until)

    def resend_message(self, key: str, channel: str, *, uncertain: bool, now: datetime,
                       expected_attempts: int | None = None, lease_until: datetime | None = None) -> bool:
        return self.store.resend_message(key, channel, uncertain=uncertain, now=now,
                                         expected_attempts=expected_attempts, lease_until=lease_until)

    def finish_message(self, key: str, channel: str, state: MessageState, *, now: datetime,
                       provider_message_id: str | None = None, next_attempt_at: datetime | None = None) -> None:
        if state is MessageState.SENT and channel in self.kill_before_sent:
            self.kill_before_sent.discard(channel)
            raise WorkerKilled(f"killed after the provider took {provider_message_id}")
        self.store.finish_message(key, channel, state, now=now, provider_message_id=provider_message_id,
                                  next_attempt_at=next_attempt_at)

    def postpone_message(self, key: str, channel: str, *, next_attempt_at: datetime) -> None:
        self.store.postpone_message(key, channel, next_attempt_at=next_attempt_at)

    def message_record(self, key: str, channel: str) -> MessageRecord | None:
        return self.store.message_record(key, channel)


@pytest.fixture
def mail(sandbox: RunningSandbox) -> Iterator[SendGridClient]:
    with SendGridClient(sandbox.sendgrid_url, sandbox.sendgrid_key, retry=NO_RETRY) as client:
        yield client


@pytest.fixture
def sms(sandbox: RunningSandbox) -> Iterator[TwilioClient]:
    with TwilioClient(f"{sandbox.url}/twilio", DEV_TWILIO_ACCOUNT_SID, DEV_TWILIO_AUTH_TOKEN, SENDER,
                      retry=NO_RETRY) as client:
        yield client


@pytest.fixture
def ledger(store: Store) -> KillableLedger:
    return KillableLedger(store)


@pytest.fixture
def notify(mail: SendGridClient, sms: TwilioClient, store: Store, ledger: KillableLedger) -> NotifyActivities:
    return NotifyActivities(mail, "orders@shop.example", store, ledger=ledger, sms=sms, per_hour=1000)


def a_customer() -> tuple[str, str]:
    return f"c-{uuid.uuid4().hex[:10]}@example.com", "+1415" + str(uuid.uuid4().int)[:7]


def shipped(email: str, phone: str | None = None, *, locale: str = "en") -> Notification:
    order = f"web-{uuid.uuid4().hex[:8]}"
    return Notification(kind=NotificationKind.SHIPPED, to_email=email, to_name="Ada", reference=order,
                        facts={"shipment": f"{order}-S1", "tracking_number": "EZ1", "carrier": "USPS"},
                        to_phone=phone, sms=phone is not None, locale=locale,
                        idempotency_key=f"order-{order}/shipped/{order}-S1")


def run(notify: NotifyActivities, notification: Notification, *, attempt: int = 1) -> str:
    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, attempt=attempt)
    result: str = env.run(notify.notify, notification)
    return result


def emails(sandbox: RunningSandbox, to: str) -> list[dict[str, Any]]:
    return sandbox.messages(to=to)


def texts(sandbox: RunningSandbox, to: str) -> list[dict[str, Any]]:
    response = httpx.get(f"{sandbox.url}/twilio/_sandbox/messages", params={"to": to}, timeout=5)
    response.raise_for_status()
    result: list[dict[str, Any]] = response.json()
    return result


def arm(sandbox: RunningSandbox, provider: str, status: int = 503) -> None:
    httpx.post(f"{sandbox.url}/{provider}/_sandbox/faults", json={"status": status, "count": 1},
               timeout=5).raise_for_status()


@pytest.fixture(autouse=True)
def no_faults_left(sandbox: RunningSandbox) -> Iterator[None]:
    yield
    for provider in ("sendgrid", "twilio"):
        httpx.delete(f"{sandbox.url}/{provider}/_sandbox/faults", timeout=5).raise_for_status()


def test_the_email_goes_as_text_and_html_and_the_sms_when_asked(notify: NotifyActivities,
                                                               sandbox: RunningSandbox, store: Store) -> None:
    email, phone = a_customer()
    note = shipped(email, phone, locale="fr")

    message_id = run(notify, note)

    [mail] = emails(sandbox, email)
    [text] = texts(sandbox, phone)
    assert mail["message_id"] == message_id and mail["subject"] == f"Votre commande {note.reference} a été expédiée"
    assert "Bonjour Ada" in mail["text"] and mail["html"].lstrip().startswith("<!DOCTYPE html>")
    assert mail["custom_args"]["message_key"] == note.idempotency_key
    assert text["body"].startswith("Omniroute : votre commande") and text["from"] == SENDER
    record = store.message_record(str(note.idempotency_key), MessageChannel.SMS.value)
    assert record is not None and (record.state, record.provider_message_id) == (MessageState.SENT, text["sid"])


def test_no_sms_without_consent(notify: NotifyActivities, sandbox: RunningSandbox, store: Store) -> None:
    email, _ = a_customer()
    note = shipped(email)

    run(notify, note)

    assert len(emails(sandbox, email)) == 1
    assert store.message_record(str(note.idempotency_key), MessageChannel.SMS.value) is None


def test_a_rerun_of_a_sent_message_answers_its_id_and_sends_nothing(notify: NotifyActivities,
                                                                    sandbox: RunningSandbox) -> None:
    email, phone = a_customer()
    note = shipped(email, phone)

    first = run(notify, note)
    again = run(notify, note, attempt=2)
    rerun = run(notify, note)

    assert first == again == rerun
    assert len(emails(sandbox, email)) == 1 and len(texts(sandbox, phone)) == 1


def test_a_sandbox_fault_on_the_mail_send_retried_sends_one_email(notify: NotifyActivities, sandbox: RunningSandbox,
                                                                  store: Store) -> None:
    email, phone = a_customer()
    note = shipped(email, phone)
    arm(sandbox, "sendgrid")

    with pytest.raises(TransientProviderError):
        run(notify, note)
    message_id = run(notify, note, attempt=2)

    assert [m["message_id"] for m in emails(sandbox, email)] == [message_id]
    assert len(texts(sandbox, phone)) == 1
    record = store.message_record(str(note.idempotency_key), MessageChannel.EMAIL.value)
    assert record is not None and (record.state, record.attempts, record.uncertain_resends) == (MessageState.SENT, 2, 0)


def test_an_sms_fault_after_the_email_went_retries_only_the_sms(notify: NotifyActivities, sandbox: RunningSandbox,
                                                                store: Store) -> None:
    email, phone = a_customer()
    note = shipped(email, phone)
    arm(sandbox, "twilio")

    with pytest.raises(TransientProviderError):
        run(notify, note)
    run(notify, note, attempt=2)

    assert len(emails(sandbox, email)) == 1 and len(texts(sandbox, phone)) == 1
    record = store.message_record(str(note.idempotency_key), MessageChannel.SMS.value)
    assert record is not None and (record.attempts, record.uncertain_resends) == (2, 0)


def test_a_refused_sms_is_recorded_and_does_not_fail_the_email(notify: NotifyActivities, sandbox: RunningSandbox,
                                                               store: Store) -> None:
    email, phone = a_customer()
    note = shipped(email, phone)
    arm(sandbox, "twilio", status=400)

    message_id = run(notify, note)

    assert [m["message_id"] for m in emails(sandbox, email)] == [message_id]
    record = store.message_record(str(note.idempotency_key), MessageChannel.SMS.value)
    assert record is not None and record.state is MessageState.REJECTED


def test_a_refused_email_fails_the_activity_for_good(notify: NotifyActivities, sandbox: RunningSandbox) -> None:
    email, phone = a_customer()
    arm(sandbox, "sendgrid", status=400)

    with pytest.raises(ApplicationError) as refused:
        run(notify, shipped(email, phone))

    assert refused.value.type == "ProviderRejected" and refused.value.non_retryable
    assert texts(sandbox, phone) == [], "no SMS for a message whose e-mail was refused"


def test_killed_after_twilio_took_the_sms_the_rerun_finds_it_and_sends_no_second(
        notify: NotifyActivities, ledger: KillableLedger, sandbox: RunningSandbox, store: Store) -> None:
    email, phone = a_customer()
    note = shipped(email, phone)
    ledger.kill_before_sent.add(MessageChannel.SMS.value)

    with pytest.raises(WorkerKilled):
        run(notify, note)
    run(notify, note)

    [text] = texts(sandbox, phone)
    record = store.message_record(str(note.idempotency_key), MessageChannel.SMS.value)
    assert record is not None and (record.state, record.provider_message_id) == (MessageState.SENT, text["sid"])
    assert record.uncertain_resends == 0


def test_killed_after_sendgrid_took_the_email_the_rerun_sends_it_again_and_counts_it(
        notify: NotifyActivities, ledger: KillableLedger, sandbox: RunningSandbox, store: Store) -> None:
    email, _ = a_customer()
    note = shipped(email)
    ledger.kill_before_sent.add(MessageChannel.EMAIL.value)

    with pytest.raises(WorkerKilled):
        run(notify, note)
    second = run(notify, note)

    sent = emails(sandbox, email)
    assert len(sent) == 2, "SendGrid cannot be asked whether it took the first: the one duplicate left"
    assert {m["custom_args"]["message_key"] for m in sent} == {note.idempotency_key}, "both traceable to one key"
    record = store.message_record(str(note.idempotency_key), MessageChannel.EMAIL.value)
    assert record is not None and (record.state, record.provider_message_id) == (MessageState.SENT, second)
    assert (record.attempts, record.uncertain_resends) == (2, 1)
    assert run(notify, note) == second and len(emails(sandbox, email)) == 2, "and never a third"


def test_under_one_in_five_provider_calls_failing_and_workers_killed_only_the_counted_emails_go_twice(
        notify: NotifyActivities, ledger: KillableLedger, sandbox: RunningSandbox, store: Store) -> None:
    chance = random.Random()
    customers = [a_customer() for _ in range(40)]
    notes = [shipped(email, phone) for email, phone in customers]
    for note in notes:
        attempt = 1
        while True:
            for provider in ("sendgrid", "twilio"):
                if chance.random() < 0.2:
                    arm(sandbox, provider)
            for channel in ("email", "sms"):
                if chance.random() < 0.1:
                    ledger.kill_before_sent.add(channel)
            try:
                run(notify, note, attempt=attempt)
                break
            except TransientProviderError:
                attempt += 1
            except WorkerKilled:
                attempt = 1  # a rerun on another worker starts the local activity over
        ledger.kill_before_sent.clear()

    sent_emails = sum(len(emails(sandbox, email)) for email, _ in customers)
    sent_texts = sum(len(texts(sandbox, phone)) for _, phone in customers)
    counted = sum(r.uncertain_resends for note in notes
                  if (r := store.message_record(str(note.idempotency_key), "email")) is not None)
    assert sent_texts == len(notes), "an SMS left unrecorded is found at Twilio, never sent twice"
    assert sent_emails == len(notes) + counted, "every e-mail sent twice is counted in the ledger"
    print(f"\n{len(notes)} notifications: {sent_emails} e-mails ({counted} counted duplicates), {sent_texts} SMS")
