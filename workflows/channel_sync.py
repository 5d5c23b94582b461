"""ChannelInventorySyncWorkflow: one long-running workflow per channel pushing its ATP to the channel.

Started once per channel (id `channel-sync-{channel}`, see OmnirouteClient.start_channel_sync) with
its mapping of nodes and SKUs to the channel's ids. A new sync first sets every listed SKU. Then
it reads the inventory ledger as a change feed every `poll_seconds` (a local activity from a
cursor), so every movement of stock reaches the channel without its writer having to tell anyone;
a `inventory_changed` signal (e.g. after a channel rule changes) is the fast path. Gathered SKUs
wait out the debounce window after a signal; then the workflow computes their channel
ATP per mapped location (a local activity over the ledger, the channel's allocation rule applied),
and pushes only the levels that differ from what the channel last accepted, in batches.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.channel_sync import ChannelSyncActivities
    from models import names
    from models.channel_sync import (
        MAX_CHANGED_SKUS,
        ChannelLevelsRequest,
        ChannelSyncRun,
        ChannelSyncStatus,
        Level,
        MovedSkus,
        MovedSkusRequest,
        PushLevels,
        SkusChanged,
    )
    from workflows.policies import LOCAL_DB

# Channel calls: throttling and outages are retried (the activity resumes where its heartbeat left
# off) within an overall budget; a refusal is not. A push that fails for good is counted, and its
# SKUs are tried again with the next change.
CHANNEL_PUSH: dict[str, Any] = {
    "start_to_close_timeout": timedelta(minutes=2),
    "heartbeat_timeout": timedelta(seconds=30),
    "schedule_to_close_timeout": timedelta(minutes=30),
    "retry_policy": RetryPolicy(initial_interval=timedelta(seconds=1), backoff_coefficient=2.0,
                                maximum_interval=timedelta(minutes=1),
                                non_retryable_error_types=["ProviderRejected", "InvalidData"]),
}


@workflow.defn(name=names.CHANNEL_SYNC_WORKFLOW)
class ChannelInventorySyncWorkflow:
    """Keeps one channel's available quantities equal to its channel ATP, for ever.

    Signal `inventory_changed(SkusChanged)`; query `status` → ChannelSyncStatus. Never completes:
    it continues as new after `config.max_loops` pushes or when Temporal suggests it, carrying the
    pending SKUs and the last pushed levels. A push refused by the channel (bad token, unknown
    location) is logged and counted, and does not stop the sync.
    """

    @workflow.init
    def __init__(self, run: ChannelSyncRun) -> None:
        self._state = run.model_copy(deep=True)
        self._config = run.config
        self._pending: set[str] = {sku for sku in run.pending if sku in run.config.items}
        self._loops = 0

    @workflow.run
    async def run(self, run: ChannelSyncRun) -> None:
        if run.run_number == 1 and run.ledger_cursor is None and self._config.full_sync_on_start:
            self._pending.update(self._config.items)
        await self._read_ledger()  # a new sync starts reading the ledger from now
        while True:
            if self._loops >= self._config.max_loops or workflow.info().is_continue_as_new_suggested():
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(self._carried())
            signalled = await self._wait_for_changes()
            if signalled and self._config.debounce_seconds > 0:  # fixed for the run: always the same timer
                await workflow.sleep(timedelta(seconds=self._config.debounce_seconds), summary="debounce")
            await self._read_ledger()
            if not self._pending:
                continue  # an idle poll: Temporal's continue-as-new suggestion bounds the history
            skus = sorted(self._pending)
            self._pending.clear()
            await self._sync(skus)
            self._loops += 1

    async def _wait_for_changes(self) -> bool:
        """Until a signal brings SKUs (True) or the poll interval passes (False)."""
        try:
            await workflow.wait_condition(lambda: bool(self._pending),
                                          timeout=timedelta(seconds=self._config.poll_seconds),
                                          timeout_summary="poll the ledger")
        except TimeoutError:
            return False
        return True

    async def _read_ledger(self) -> None:
        """Add the listed SKUs that moved since the cursor: stock moved without a signal still syncs."""
        try:
            moved: MovedSkus = await workflow.execute_local_activity_method(
                ChannelSyncActivities.moved_skus,
                MovedSkusRequest(after=self._state.ledger_cursor, skus=sorted(self._config.items)), **LOCAL_DB)
        except ActivityError as err:
            workflow.logger.warning("reading the ledger failed, trying again next round: %s", err)
            return
        self._state.ledger_cursor = moved.cursor
        self._pending.update(moved.skus)

    @workflow.signal(name=names.INVENTORY_CHANGED_SIGNAL)
    def inventory_changed(self, change: SkusChanged) -> None:
        # SKUs the channel does not list are ignored here, so they never cost a push.
        self._pending.update(sku for sku in change.skus if sku in self._config.items)

    @workflow.query(name=names.CHANNEL_SYNC_STATUS_QUERY)
    def status(self) -> ChannelSyncStatus:
        state = self._state
        return ChannelSyncStatus(
            channel=self._config.channel, pending=len(self._pending), pushed=state.pushed,
            skipped_unchanged=state.skipped_unchanged, failed=state.failed,
            remembered_levels=len(state.last_pushed), last_push_at=state.last_push_at,
            run_number=state.run_number, loops_this_run=self._loops,
        )

    async def _sync(self, skus: Sequence[str]) -> None:
        for start in range(0, len(skus), MAX_CHANGED_SKUS):
            chunk = list(skus[start:start + MAX_CHANGED_SKUS])
            try:
                levels = await self._levels(chunk)
            except ActivityError as err:
                workflow.logger.warning("channel levels of %d SKUs failed, kept pending: %s", len(chunk), err)
                self._pending.update(chunk)
                continue
            changed = [level for level in levels if self._state.last_pushed.get(level.key) != level.available]
            self._state.skipped_unchanged += len(levels) - len(changed)
            for first in range(0, len(changed), self._config.batch_size):
                await self._push(changed[first:first + self._config.batch_size])

    async def _levels(self, skus: list[str]) -> list[Level]:
        request = ChannelLevelsRequest(channel=self._config.channel, skus=skus,
                                       locations=dict(self._config.locations), items=dict(self._config.items))
        levels: list[Level] = await workflow.execute_local_activity_method(
            ChannelSyncActivities.channel_levels, request, **LOCAL_DB)
        return levels

    async def _push(self, batch: list[Level]) -> None:
        try:
            await workflow.execute_activity_method(ChannelSyncActivities.push_levels, PushLevels(levels=batch),
                                                   summary=f"{len(batch)} levels", **CHANNEL_PUSH)
        except ActivityError as err:
            self._state.failed += len(batch)
            refused = isinstance(err.cause, ApplicationError) and err.cause.non_retryable
            if not refused:  # out of budget, not refused: try these SKUs again with the next round
                self._pending.update(level.sku for level in batch)
            workflow.logger.warning("pushing %d levels failed (%s): %s", len(batch),
                                    "refused" if refused else "will retry", err)
            return
        self._remember(batch)
        self._state.pushed += len(batch)
        self._state.last_push_at = workflow.now()

    def _remember(self, batch: list[Level]) -> None:
        remembered = self._state.last_pushed
        for level in batch:
            remembered.pop(level.key, None)  # re-inserted last: the dict stays oldest-first
            remembered[level.key] = level.available
        while len(remembered) > self._config.max_remembered_levels:
            del remembered[next(iter(remembered))]

    def _carried(self) -> ChannelSyncRun:
        return self._state.model_copy(update={"pending": sorted(self._pending),
                                              "run_number": self._state.run_number + 1})
