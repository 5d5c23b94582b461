"""Temporal Schedules Omniroute relies on, created or brought up to date when a worker starts.

Idempotent: every worker calls ensure_schedules at start-up, the first creates each schedule and
the others update it to the same spec (so a changed interval takes effect on the next deploy).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)

from models import names
from omniroute.config.settings import Settings

log = logging.getLogger("omniroute.schedules")

# How often a 3PL's inventory is pulled: ShipBob allows 150 calls a minute, a pull of 10,000 SKUs takes 100.
THREEPL_SYNC_EVERY = timedelta(minutes=15)


def reservation_sweep_schedule(settings: Settings) -> Schedule:
    """Every `reservation_sweep_minutes`; a run still going when the next is due makes that one skip."""
    return _every(settings, names.RESERVATION_SWEEP_WORKFLOW, names.RESERVATION_SWEEP_SCHEDULE,
                  timedelta(minutes=settings.reservation_sweep_minutes), longest_run=timedelta(minutes=10))


def shadow_price_schedule(settings: Settings) -> Schedule:
    """Every `lookahead_refresh_minutes`; each run does nothing unless the cost model turns look-ahead on."""
    return _every(settings, names.SHADOW_PRICE_WORKFLOW, names.SHADOW_PRICE_SCHEDULE,
                  timedelta(minutes=settings.lookahead_refresh_minutes), longest_run=timedelta(minutes=15))


def release_wave_schedule(settings: Settings) -> Schedule:
    """Every `wave_minutes`; each run does nothing unless the cost model has waves."""
    return _every(settings, names.RELEASE_WAVE_WORKFLOW, names.RELEASE_WAVE_SCHEDULE,
                  timedelta(minutes=settings.wave_minutes), longest_run=timedelta(minutes=10))


def backorder_sweep_schedule(settings: Settings) -> Schedule:
    """Every `backorder_sweep_minutes`: orders on backorder whose stock has come in re-plan."""
    return _every(settings, names.BACKORDER_SWEEP_WORKFLOW, names.BACKORDER_SWEEP_SCHEDULE,
                  timedelta(minutes=settings.backorder_sweep_minutes), longest_run=timedelta(minutes=10))


def message_retry_schedule(settings: Settings) -> Schedule:
    """Every `message_retry_every_seconds`: failed customer messages whose next attempt has come go again."""
    return _every(settings, names.MESSAGE_RETRY_WORKFLOW, names.MESSAGE_RETRY_SCHEDULE,
                  timedelta(seconds=settings.message_retry_every_seconds), longest_run=timedelta(minutes=30))


def _every(settings: Settings, workflow: str, schedule_id: str, every: timedelta, *, longest_run: timedelta
           ) -> Schedule:
    """Start `workflow` every `every`; a run still going when the next is due makes that one skip."""
    return Schedule(
        action=ScheduleActionStartWorkflow(
            workflow, id=schedule_id, task_queue=settings.task_queue, run_timeout=max(every, longest_run)),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=every)]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=every),
    )


async def ensure_schedules(client: Client, settings: Settings) -> None:
    """Create Omniroute's schedules, or update them in place when they already exist."""
    await _create_or_update(client, names.RESERVATION_SWEEP_SCHEDULE, reservation_sweep_schedule(settings))
    await _create_or_update(client, names.SHADOW_PRICE_SCHEDULE, shadow_price_schedule(settings))
    await _create_or_update(client, names.RELEASE_WAVE_SCHEDULE, release_wave_schedule(settings))
    await _create_or_update(client, names.BACKORDER_SWEEP_SCHEDULE, backorder_sweep_schedule(settings))
    await ensure_message_retry_schedule(client, settings)
    await ensure_threepl_sync_schedule(client, settings)


async def ensure_message_retry_schedule(client: Client, settings: Settings) -> None:
    """The `message-retry` schedule alone, created or updated (ensure_schedules calls it)."""
    await _create_or_update(client, names.MESSAGE_RETRY_SCHEDULE, message_retry_schedule(settings))


async def _create_or_update(client: Client, schedule_id: str, schedule: Schedule) -> None:
    try:
        await client.create_schedule(schedule_id, schedule)
        log.info("created schedule %s", schedule_id)
    except ScheduleAlreadyRunningError:
        def replace(_: ScheduleUpdateInput) -> ScheduleUpdate:
            return ScheduleUpdate(schedule=schedule)

        await client.get_schedule_handle(schedule_id).update(replace)
        log.info("updated schedule %s", schedule_id)


def threepl_sync_schedule(settings: Settings, node_id: str) -> Schedule:
    """Pull the 3PL node's inventory every THREEPL_SYNC_EVERY; a pull still running makes the next skip."""
    return Schedule(
        action=ScheduleActionStartWorkflow(
            names.THREEPL_SYNC_WORKFLOW,
            node_id,
            id=names.threepl_sync_workflow_id(node_id),
            task_queue=settings.task_queue,
            run_timeout=timedelta(hours=1),
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=THREEPL_SYNC_EVERY)]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=THREEPL_SYNC_EVERY),
    )


async def ensure_threepl_sync_schedule(client: Client, settings: Settings) -> str | None:
    """The `threepl-sync-{node}` schedule for `settings.shipbob_node_id`, created or updated; its id
    (None when no 3PL node is configured, and nothing is scheduled)."""
    if settings.shipbob_node_id is None:
        return None
    schedule_id = names.threepl_sync_workflow_id(settings.shipbob_node_id)
    schedule = threepl_sync_schedule(settings, settings.shipbob_node_id)
    try:
        await client.create_schedule(schedule_id, schedule)
        log.info("created schedule %s", schedule_id)
    except ScheduleAlreadyRunningError:
        def replace(_: ScheduleUpdateInput) -> ScheduleUpdate:
            return ScheduleUpdate(schedule=schedule)

        await client.get_schedule_handle(schedule_id).update(replace)
        log.info("updated schedule %s", schedule_id)
    return schedule_id
