"""MessageRetryWorkflow on the dev server with the worker as deployed: one run sends every message due when
it started, batch after batch, and reports what it did."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from activities.notify import recipient_key
from models.message_retry import MessageRetryReport
from models.names import MESSAGE_RETRY_WORKFLOW
from models.notify import MessageChannel, Notification, NotificationKind
from store import Store
from store.ports import MessageState
from tests.fixtures.temporal import RunningWorker
from tests.fixtures.workflows import run_once
from workflows.message_retry import BATCH_SIZE


def a_failed_message(store: Store, tag: str, number: int) -> Notification:
    """A `delivered` e-mail that failed an hour ago and is due again now, kept in the ledger."""
    order_id = f"web-{tag}-{number}"
    note = Notification(kind=NotificationKind.DELIVERED, to_email=f"c-{tag}-{number}@example.com", to_name="Ada",
                        reference=order_id, facts={"shipment": f"{order_id}-S1"},
                        idempotency_key=f"order-{order_id}/delivered/{order_id}-S1")
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    key = str(note.idempotency_key)
    store.begin_message(key, MessageChannel.EMAIL.value, kind=note.kind.value, recipient=recipient_key(note.to_email),
                        language="en", now=an_hour_ago, notification=note.model_dump_json())
    store.finish_message(key, MessageChannel.EMAIL.value, MessageState.FAILED, now=an_hour_ago,
                         next_attempt_at=an_hour_ago + timedelta(minutes=5))
    return note


async def test_one_run_sends_every_due_message_across_batches_once(omniroute_worker: RunningWorker) -> None:
    w, tag = omniroute_worker, uuid.uuid4().hex[:8]
    notes = [a_failed_message(w.store, tag, n) for n in range(BATCH_SIZE + 5)]

    report = await run_once(w, MESSAGE_RETRY_WORKFLOW, MessageRetryReport)
    again = await run_once(w, MESSAGE_RETRY_WORKFLOW, MessageRetryReport)

    assert (report.tried, report.sent, report.batches) == (len(notes), len(notes), 2)
    assert (again.tried, again.batches) == (0, 1)
    for note in notes:
        [mail] = w.sandbox.messages(to=note.to_email)
        record = w.store.message_record(str(note.idempotency_key), MessageChannel.EMAIL.value)
        assert record is not None and (record.state, record.provider_message_id) == (MessageState.SENT,
                                                                                     mail["message_id"])
