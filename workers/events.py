"""The event dispatcher, started with the workers (docs/events.md).

Every worker calls ensure_event_dispatcher at start-up; Temporal decides atomically (conflict policy
USE_EXISTING) that one EventDispatchWorkflow runs per task queue. A running dispatcher keeps the interval and
retry schedule it was started with; to change them, terminate it (`temporal workflow terminate --workflow-id
event-dispatch-<task queue>`: it holds no state) and restart a worker.
"""

from __future__ import annotations

import logging

from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy

from models.events import EVENT_DISPATCH_WORKFLOW, DispatchRun, RetrySchedule, dispatch_workflow_id
from omniroute.config.settings import Settings

log = logging.getLogger("omniroute.events")


def retry_schedule(settings: Settings) -> RetrySchedule:
    if settings.events_retry_waits is None:
        return RetrySchedule()
    return RetrySchedule(waits=list(settings.events_retry_waits))


async def ensure_event_dispatcher(client: Client, settings: Settings) -> str:
    """Start the task queue's event dispatcher unless it runs; its workflow id."""
    workflow_id = dispatch_workflow_id(settings.task_queue)
    run = DispatchRun(task_queue=settings.task_queue, every_seconds=settings.events_dispatch_seconds,
                      retry=retry_schedule(settings))
    await client.start_workflow(EVENT_DISPATCH_WORKFLOW, run, id=workflow_id, task_queue=settings.task_queue,
                                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING)
    log.info("event dispatcher runs as %s", workflow_id)
    return workflow_id
