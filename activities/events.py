"""Events out: the dispatcher's round (outbox → deliveries → one workflow each) and one delivery attempt.

`dispatch_events` is idempotent from end to end: the fan-out is one transaction that stamps the events it
took, a delivery's workflow id is its delivery id (a second start is refused by Temporal and counts as
started), and a delivery is marked `sending` only after its workflow exists. `attempt_delivery` posts once
and records the attempt whatever came back; it classifies the answer (2xx delivered, 410 gone, anything else
failed) and leaves waiting and giving up to the workflow's schedule.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import UTC, datetime

from temporalio import activity
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from integrations.webhooks.events import EventSender
from integrations.webhooks.standard import message_body
from models.events import (
    EVENT_DELIVERY_WORKFLOW,
    AttemptDelivery,
    AttemptOutcome,
    AttemptResult,
    DeliverEvent,
    DeliveryAttempt,
    DeliveryState,
    DispatchRequest,
    DispatchResult,
    delivery_workflow_id,
)
from store.event_ports import EventDeliveries

# Fan-out batches per round: a backlog drains at up to this many times the batch size per dispatch tick.
MAX_BATCHES_PER_ROUND = 10
_FINAL = {AttemptOutcome.DELIVERED: DeliveryState.SUCCEEDED, AttemptOutcome.GONE: DeliveryState.GONE,
          AttemptOutcome.CANCELLED: DeliveryState.CANCELLED}


class EventActivities:
    """`deliveries` is the store; `sender` posts; `open_secret(subscription_id, sealed)` gives the signing
    secret back (omniroute.config.sealed_secrets in the worker); `client` starts the delivery workflows."""

    def __init__(self, deliveries: EventDeliveries, sender: EventSender, open_secret: Callable[[str, str], str],
                 client: Client) -> None:
        self._store = deliveries
        self._sender = sender
        self._open_secret = open_secret
        self._client = client

    @activity.defn
    async def dispatch_events(self, request: DispatchRequest) -> DispatchResult:
        """Coalesce the ledger's movements into inventory.changed, fan undispatched events out to the
        subscriptions, and start a workflow for every pending delivery. Store calls run in a thread."""
        result = DispatchResult()
        await asyncio.to_thread(self._store.collect_inventory_changes)
        for _ in range(MAX_BATCHES_PER_ROUND):
            events, deliveries = await asyncio.to_thread(self._store.fan_out_events, limit=request.limit)
            result.events += events
            result.deliveries += deliveries
            if events < request.limit:
                break
        pending = await asyncio.to_thread(self._store.pending_deliveries, limit=request.limit)
        for delivery in pending:
            await self._start(delivery, request)
            await asyncio.to_thread(self._store.set_delivery_state, delivery, DeliveryState.SENDING,
                                    only_from=DeliveryState.PENDING)
            result.started += 1
        return result

    async def _start(self, delivery: str, request: DispatchRequest) -> None:
        # Already started by an earlier round that did not get to mark it: it runs (or ran) once.
        with contextlib.suppress(WorkflowAlreadyStartedError):
            await self._client.start_workflow(
                EVENT_DELIVERY_WORKFLOW, DeliverEvent(delivery_id=delivery, retry=request.retry),
                id=delivery_workflow_id(delivery), task_queue=request.task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE)

    @activity.defn
    def attempt_delivery(self, request: AttemptDelivery) -> AttemptResult:
        """POST the event once and log the attempt. Never raises for the receiver's answer; a store outage
        raises (the activity's retry policy)."""
        context = self._store.delivery_context(request.delivery_id)
        if context is None:  # the subscription was deleted, and its log with it
            return AttemptResult(outcome=AttemptOutcome.CANCELLED)
        delivery, subscription, event = context
        if delivery.state.is_final:  # a replayed attempt of a delivery already settled
            settled = {DeliveryState.SUCCEEDED: AttemptOutcome.DELIVERED, DeliveryState.GONE: AttemptOutcome.GONE}
            return AttemptResult(outcome=settled.get(delivery.state, AttemptOutcome.CANCELLED))
        if not subscription.enabled:
            self._store.set_delivery_state(request.delivery_id, DeliveryState.CANCELLED)
            return AttemptResult(outcome=AttemptOutcome.CANCELLED)
        sealed = self._store.subscription_secret_sealed(subscription.subscription_id)
        if sealed is None:
            return AttemptResult(outcome=AttemptOutcome.CANCELLED)
        secret = self._open_secret(subscription.subscription_id, sealed)
        body = message_body(event.type.value, event.data, at=event.occurred_at)
        attempted_at = datetime.now(UTC)
        sent = self._sender.send(subscription.url, secret, event.event_id, body)
        self._store.record_delivery_attempt(request.delivery_id, DeliveryAttempt(
            attempt=request.attempt, attempted_at=attempted_at, http_status=sent.status, error=sent.error,
            duration_ms=sent.duration_ms))
        if sent.ok:
            outcome = AttemptOutcome.DELIVERED
        elif sent.status == 410:
            self._store.disable_subscription(subscription.subscription_id, "the receiver answered 410 Gone")
            outcome = AttemptOutcome.GONE
        else:
            if request.final:
                self._store.set_delivery_state(request.delivery_id, DeliveryState.FAILED)
            return AttemptResult(outcome=AttemptOutcome.FAILED, http_status=sent.status, retry_after=sent.retry_after)
        self._store.set_delivery_state(request.delivery_id, _FINAL[outcome])
        return AttemptResult(outcome=outcome, http_status=sent.status)
