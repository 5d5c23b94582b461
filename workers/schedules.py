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

from omniroute.settings import Settings
from workflows.sweep import RESERVATION_SWEEP_WORKFLOW

log = logging.getLogger("omniroute.schedules")

RESERVATION_SWEEP_SCHEDULE = "reservation-sweep"


def reservation_sweep_schedule(settings: Settings) -> Schedule:
    """Every `reservation_sweep_minutes`; a run still going when the next is due makes that one skip."""
    every = timedelta(minutes=settings.reservation_sweep_minutes)
    return Schedule(
        action=ScheduleActionStartWorkflow(
            RESERVATION_SWEEP_WORKFLOW,
            id=RESERVATION_SWEEP_SCHEDULE,
            task_queue=settings.task_queue,
            run_timeout=max(every, timedelta(minutes=10)),
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=every)]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=every),
    )


async def ensure_schedules(client: Client, settings: Settings) -> None:
    """Create Omniroute's schedules, or update them in place when they already exist."""
    schedule = reservation_sweep_schedule(settings)
    try:
        await client.create_schedule(RESERVATION_SWEEP_SCHEDULE, schedule)
        log.info("created schedule %s", RESERVATION_SWEEP_SCHEDULE)
    except ScheduleAlreadyRunningError:
        def replace(_: ScheduleUpdateInput) -> ScheduleUpdate:
            return ScheduleUpdate(schedule=schedule)

        await client.get_schedule_handle(RESERVATION_SWEEP_SCHEDULE).update(replace)
        log.info("updated schedule %s", RESERVATION_SWEEP_SCHEDULE)
