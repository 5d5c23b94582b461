"""ChannelWritebackWorkflow: one long-running workflow per Shopify channel writing fulfilments and cancels back.

Started once per configured channel (id `channel-writeback-{channel}`, workers/channel_writebacks.py).
Every `poll_seconds` (or at once on the `writeback_now` signal) it reads, by a local activity, what the
read model holds that the `channel_writebacks` ledger does not: shipments of the channel's orders that
left the building, orders cancelled as a whole. Each is written by the `write_back` activity, which
reads the order back from Shopify first and records the outcome in the ledger, so each is written once.

The order and fulfilment workflows issue no command for this: the driver follows the read model, so
a Shopify outage only delays a write-back. An activity retries within its budget; if it runs out, the
task is still unrecorded and the next poll tries it again (this round stops at the first such failure:
the shop is likely down for the rest too).
"""

from __future__ import annotations

import contextlib
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.channel_writeback import ChannelWritebackActivities
    from models.channel_writeback import (
        CHANNEL_WRITEBACK_WORKFLOW,
        WRITEBACK_NOW_SIGNAL,
        WRITEBACK_STATUS_QUERY,
        ChannelWritebackRun,
        ChannelWritebackStatus,
        PendingWritebacks,
        WritebackDone,
        WritebackOutcome,
        WritebackTask,
    )
    from workflows.policies import LOCAL_DB

# Shop calls: outages and the throttle are retried with backoff within a budget; a refusal is recorded
# by the activity itself (it returns), so nothing here is non-retryable but bad data.
WRITE_BACK: dict[str, Any] = {
    "start_to_close_timeout": timedelta(seconds=60),
    "schedule_to_close_timeout": timedelta(minutes=10),
    "retry_policy": RetryPolicy(initial_interval=timedelta(seconds=1), backoff_coefficient=2.0,
                                maximum_interval=timedelta(seconds=30), non_retryable_error_types=["InvalidData"]),
}


@workflow.defn(name=CHANNEL_WRITEBACK_WORKFLOW)
class ChannelWritebackWorkflow:
    """Writes one channel's fulfilments and cancels back to its shop, for ever.

    Signal `writeback_now` (poll at once); query `status` → ChannelWritebackStatus. Never completes: it
    continues as new after `config.max_loops` polls or when Temporal suggests it, carrying its counts.
    """

    @workflow.init
    def __init__(self, run: ChannelWritebackRun) -> None:
        self._state = run.model_copy(deep=True)
        self._config = run.config
        self._polls = 0
        self._poked = False

    @workflow.run
    async def run(self, run: ChannelWritebackRun) -> None:
        while True:
            if self._polls >= self._config.max_loops or workflow.info().is_continue_as_new_suggested():
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(self._state.model_copy(update={"run_number": self._state.run_number + 1}))
            self._poked = False
            tasks = await self._pending()
            complete = await self._write(tasks)
            self._polls += 1
            if complete and len(tasks) >= self._config.batch_size:
                continue  # a full batch: there may be more, read again at once
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(lambda: self._poked,
                                              timeout=timedelta(seconds=self._config.poll_seconds),
                                              timeout_summary="poll the read model")

    async def _pending(self) -> list[WritebackTask]:
        try:
            tasks: list[WritebackTask] = await workflow.execute_local_activity_method(
                ChannelWritebackActivities.pending_writebacks,
                PendingWritebacks(channel=self._config.channel, limit=self._config.batch_size), **LOCAL_DB)
        except ActivityError as err:
            workflow.logger.warning("reading what to write back failed, trying again next poll: %s", err)
            return []
        return tasks

    async def _write(self, tasks: list[WritebackTask]) -> bool:
        """Write the tasks in order; False when one ran out of retries (the rest wait for the next poll)."""
        for task in tasks:
            try:
                done: WritebackDone = await workflow.execute_activity_method(
                    ChannelWritebackActivities.write_back, task, summary=f"{task.kind.value} {task.subject}",
                    **WRITE_BACK)
            except ActivityError as err:
                self._state.failed_attempts += 1
                workflow.logger.warning("writing %s %s back failed, trying again next poll: %s",
                                        task.kind.value, task.subject, err)
                return False
            if done.outcome == WritebackOutcome.WRITTEN:
                self._state.written += 1
                self._state.last_written_at = workflow.now()
            elif done.outcome == WritebackOutcome.FOUND:
                self._state.found += 1
            else:
                self._state.refused += 1
        return True

    @workflow.signal(name=WRITEBACK_NOW_SIGNAL)
    def writeback_now(self) -> None:
        self._poked = True

    @workflow.query(name=WRITEBACK_STATUS_QUERY)
    def status(self) -> ChannelWritebackStatus:
        state = self._state
        return ChannelWritebackStatus(
            channel=self._config.channel, written=state.written, found=state.found, refused=state.refused,
            failed_attempts=state.failed_attempts, last_written_at=state.last_written_at,
            run_number=state.run_number, polls_this_run=self._polls)
