"""Events out to the retailer's systems: the dispatcher, and one workflow per delivery.

EventDispatchWorkflow runs for ever on the worker's task queue (id `event-dispatch-{task_queue}`, started by
the workers, workers/events.py): every `every_seconds` it runs one dispatch round (activities/events.py),
and continues as new after `max_loops` rounds or when Temporal suggests it. It keeps no state of its own:
the outbox and the deliveries are in the app DB, so a terminated dispatcher loses nothing.

EventDeliveryWorkflow (id `event-delivery-{delivery_id}`) sends one event to one subscription: an attempt,
then, while attempts fail, a durable timer of the schedule's next wait (longer when the receiver's
Retry-After asks for more) and another attempt, until one gets a 2xx, a 410, the subscription is disabled or
deleted, or the schedule is spent. One workflow per (subscription, event) rather than one per subscription:
a receiver that is down delays nobody else's events and no other event of its own, and each delivery's
retries and log stand alone. The price is order: Standard Webhooks receivers order by the event's timestamp.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.events import EventActivities
    from models.events import (
        EVENT_DELIVERY_WORKFLOW,
        EVENT_DISPATCH_WORKFLOW,
        AttemptDelivery,
        AttemptOutcome,
        AttemptResult,
        DeliverEvent,
        DeliveryState,
        DispatchRequest,
        DispatchRun,
    )

# A round touches the app DB and Temporal only: retried briefly, then the next tick tries again.
DISPATCH: dict[str, Any] = {
    "start_to_close_timeout": timedelta(minutes=2),
    "retry_policy": RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=10),
                                maximum_attempts=3),
}
# One POST (15 s timeout) plus the log; the store's outages are retried, the receiver's answer never is.
ATTEMPT: dict[str, Any] = {
    "start_to_close_timeout": timedelta(seconds=45),
    "retry_policy": RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30),
                                maximum_attempts=5),
}
# A receiver's Retry-After is honoured up to this.
MAX_RETRY_AFTER = timedelta(hours=24)
_STATES = {AttemptOutcome.DELIVERED: DeliveryState.SUCCEEDED, AttemptOutcome.GONE: DeliveryState.GONE,
           AttemptOutcome.CANCELLED: DeliveryState.CANCELLED}


@workflow.defn(name=EVENT_DISPATCH_WORKFLOW)
class EventDispatchWorkflow:
    """Dispatches events every `run.every_seconds`, for ever (continue-as-new bounds its history)."""

    @workflow.run
    async def run(self, run: DispatchRun) -> None:
        request = DispatchRequest(task_queue=run.task_queue, retry=run.retry)
        for _ in range(run.max_loops):
            if workflow.info().is_continue_as_new_suggested():
                break
            try:
                await workflow.execute_activity_method(EventActivities.dispatch_events, request, **DISPATCH)
            except ActivityError as err:
                workflow.logger.warning("event dispatch round failed, trying again next tick: %s", err)
            await workflow.sleep(timedelta(seconds=run.every_seconds), summary="next dispatch")
        workflow.continue_as_new(run.model_copy(update={"run_number": run.run_number + 1}))


@workflow.defn(name=EVENT_DELIVERY_WORKFLOW)
class EventDeliveryWorkflow:
    """Delivers one event to one subscription; returns how the delivery ended (a DeliveryState)."""

    @workflow.run
    async def run(self, request: DeliverEvent) -> DeliveryState:
        waits = request.retry.waits
        attempts = len(waits) + 1
        for attempt in range(1, attempts + 1):
            try:
                result: AttemptResult = await workflow.execute_activity_method(
                    EventActivities.attempt_delivery,
                    AttemptDelivery(delivery_id=request.delivery_id, attempt=attempt, final=attempt == attempts),
                    summary=f"attempt {attempt}", **ATTEMPT)
            except ActivityError as err:  # the log could not be written: count it as a failed attempt
                workflow.logger.warning("attempt %d of %s failed: %s", attempt, request.delivery_id, err)
                result = AttemptResult(outcome=AttemptOutcome.FAILED)
            if result.outcome is not AttemptOutcome.FAILED:
                return _STATES[result.outcome]
            if attempt == attempts:
                break
            wait = timedelta(seconds=waits[attempt - 1])
            if result.retry_after is not None:
                wait = max(wait, min(timedelta(seconds=result.retry_after), MAX_RETRY_AFTER))
            await workflow.sleep(wait, summary=f"retry {attempt + 1} of {attempts}")
        return DeliveryState.FAILED
