"""MessageRetryWorkflow: send again the customer messages whose send failed, batch after batch, until
none is due.

Started every minute or so by the `message-retry` Temporal Schedule (workers/schedules.py), so each run
and what it did are visible in the Temporal UI. A message that failed never stops its order (the order
records it, workflows/notices.py); this is where it goes out later. Which messages are due, how each is
sent once and how long one is tried are the activity's and sourcing's (activities/message_retry.py,
sourcing/message_retry.py, docs/notifications.md); this workflow only loops.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.message_retry import MessageRetryActivities
    from models import names
    from models.message_retry import MessageRetryBatch, MessageRetryReport, MessageRetryResult

BATCH_SIZE = 20
# One run stops after this many batches (2,000 messages); the next scheduled run goes on. It keeps a
# run's history short after an outage left a large backlog.
MAX_BATCHES_PER_RUN = 100
# A batch calls the providers, so it is a regular activity: it heartbeats per message, and a batch lost
# with its worker is tried again (the messages it had taken wait for their lease, see the ledger).
RETRY_BATCH: dict[str, Any] = {
    "start_to_close_timeout": timedelta(minutes=10),
    "heartbeat_timeout": timedelta(minutes=2),
    "retry_policy": RetryPolicy(initial_interval=timedelta(seconds=2), maximum_interval=timedelta(seconds=30),
                                maximum_attempts=3),
}


@workflow.defn(name=names.MESSAGE_RETRY_WORKFLOW)
class MessageRetryWorkflow:
    """Sends again every message due when the run started; returns a MessageRetryReport (tried, sent,
    failed again, abandoned, refused, busy, batches). The run fails only when a batch's own retries are
    spent (the app DB down); the next scheduled run goes on."""

    @workflow.run
    async def run(self) -> MessageRetryReport:
        # Judged against the run's start: a message failing again is given a later attempt, so the loop
        # cannot chase its own work.
        now = workflow.now()
        total = MessageRetryResult()
        batches = 0
        while batches < MAX_BATCHES_PER_RUN:
            result: MessageRetryResult = await workflow.execute_activity_method(
                MessageRetryActivities.retry_due_messages, MessageRetryBatch(now=now, limit=BATCH_SIZE),
                **RETRY_BATCH,
            )
            batches += 1
            total = total.plus(result)
            if result.exhausted:
                break
        return MessageRetryReport(**total.model_dump(), batches=batches)
