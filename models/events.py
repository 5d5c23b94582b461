"""Events for the retailer's systems: what happened to an order, a shipment, a return, a refund or a
position, delivered to the subscriptions that asked for its type, signed by Standard Webhooks.

An event is written to the outbox in the same transaction as the state change it reports (store/events.py);
its id is deterministic (subject, type, the new state and how many times the subject reached it before), so
a replayed or retried write never reports a change twice. The id is also the `webhook-id` of every delivery
of the event, so a receiver dedupes on it. Payloads carry ids, states, carrier and tracking, amounts:
never names, addresses, e-mails or phones. docs/events.md describes each type.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AnyUrl, BaseModel, ConfigDict, Field, UrlConstraints

from models.text import PlainText

# Workflow names and ids (kept here rather than in models/names.py: only the events use them).
EVENT_DISPATCH_WORKFLOW = "EventDispatchWorkflow"
EVENT_DELIVERY_WORKFLOW = "EventDeliveryWorkflow"

# A fixed namespace so that an event's id is the same wherever and however often it is computed.
_EVENT_ID_NAMESPACE = uuid.UUID("6f0c1f6e-6a0e-4c8e-9c1a-5e7d2f3b9a41")


class EventType(StrEnum):
    """The closed list of event types a subscription may ask for."""

    ORDER_ACCEPTED = "order.accepted"
    ORDER_HELD = "order.held"
    ORDER_CANCELLED = "order.cancelled"
    SHIPMENT_RELEASED = "shipment.released"
    SHIPMENT_SHIPPED = "shipment.shipped"
    SHIPMENT_DELIVERED = "shipment.delivered"
    RETURN_RECEIVED = "return.received"
    REFUND_ISSUED = "refund.issued"
    INVENTORY_CHANGED = "inventory.changed"


class DeliveryState(StrEnum):
    """Where one delivery of an event to a subscription stands."""

    PENDING = "pending"  # recorded, its workflow not started yet (the dispatcher starts it)
    SENDING = "sending"  # its workflow runs: attempts, with backoff between them
    SUCCEEDED = "succeeded"  # the receiver answered 2xx
    FAILED = "failed"  # every attempt of the schedule failed
    GONE = "gone"  # the receiver answered 410: the subscription was disabled
    CANCELLED = "cancelled"  # the subscription was disabled or deleted before it got through

    @property
    def is_final(self) -> bool:
        return self not in (DeliveryState.PENDING, DeliveryState.SENDING)


def event_id(event_type: EventType, subject: str, state: str, occurrence: int = 1) -> str:
    """The deterministic id of the `occurrence`-th time `subject` reached `state` and reported `event_type`."""
    name = f"{event_type.value}|{subject}|{state}|{occurrence}"
    return f"evt_{uuid.uuid5(_EVENT_ID_NAMESPACE, name).hex}"


def delivery_id(subscription_id: str, event: str) -> str:
    """The id of the first delivery of `event` to the subscription (a replay gets a fresh one)."""
    return f"dlv_{uuid.uuid5(_EVENT_ID_NAMESPACE, f'{subscription_id}|{event}').hex}"


def delivery_workflow_id(delivery: str) -> str:
    return f"event-delivery-{delivery}"


def dispatch_workflow_id(task_queue: str) -> str:
    """One dispatcher per task queue (per deployment): the worker starts it if it is not running."""
    return f"event-dispatch-{task_queue}"


class Event(BaseModel):
    """One outbox row: what is sent as `{"type", "timestamp", "data"}` under `webhook-id: event_id`."""

    event_id: str
    type: EventType
    subject: str = Field(description="the order, shipment, return, refund or node/SKU it is about")
    order_id: str | None = None
    occurred_at: datetime
    data: dict[str, Any]


WebhookUrl = Annotated[AnyUrl, UrlConstraints(allowed_schemes=["http", "https"], max_length=2000)]
EventTypes = Annotated[list[EventType], Field(min_length=1, max_length=len(EventType))]


class SubscriptionCreate(BaseModel):
    """POST /v1/subscriptions."""

    model_config = ConfigDict(extra="forbid")

    url: WebhookUrl = Field(description="where events are POSTed (http or https)")
    event_types: EventTypes = Field(description="the event types to deliver (docs/events.md)")
    description: PlainText | None = Field(default=None, max_length=200)


class SubscriptionUpdate(BaseModel):
    """PATCH /v1/subscriptions/{id}: only the fields given change."""

    model_config = ConfigDict(extra="forbid")

    url: WebhookUrl | None = None
    event_types: EventTypes | None = None
    description: PlainText | None = Field(default=None, max_length=200)
    enabled: bool | None = None


class Subscription(BaseModel):
    """A subscription as the API shows it (never its secret)."""

    subscription_id: str
    url: str
    event_types: list[EventType]
    description: str | None = None
    enabled: bool
    disabled_reason: str | None = Field(default=None, description="why it was disabled, when the system did it")
    created_at: datetime
    updated_at: datetime


class SubscriptionCreated(Subscription):
    """The answer to a create: the signing secret, shown this once."""

    secret: str = Field(description="the Standard Webhooks signing secret (whsec_...): shown only here")


class DeliveryAttempt(BaseModel):
    """One POST of a delivery."""

    attempt: int
    attempted_at: datetime
    http_status: int | None = Field(default=None, description="the receiver's status; None when none came")
    error: str | None = None
    duration_ms: int


class Delivery(BaseModel):
    """One event sent (or to be sent) to one subscription, with every attempt, oldest first."""

    delivery_id: str
    subscription_id: str
    event_id: str
    event_type: EventType
    state: DeliveryState
    replay_of: str | None = None
    created_at: datetime
    updated_at: datetime
    attempts: list[DeliveryAttempt] = Field(default_factory=list)


class DeliveryPage(BaseModel):
    """A page of a subscription's log, newest first; `next_before` continues it."""

    deliveries: list[Delivery]
    next_before: int | None = Field(default=None, description="pass as `before` for the next page")


# -- the workflows' and activities' inputs and outputs --------------------------------------------


class RetrySchedule(BaseModel):
    """The waits before each retry of a delivery, in seconds (Standard Webhooks' by default: 5 s, 5 min,
    30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h after an immediate first attempt; about 3 days in all)."""

    waits: list[float] = Field(default_factory=lambda: [5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 50400.0,
                                                             72000.0, 86400.0])


class DeliverEvent(BaseModel):
    """EventDeliveryWorkflow's input."""

    delivery_id: str
    retry: RetrySchedule = Field(default_factory=RetrySchedule)


class AttemptOutcome(StrEnum):
    DELIVERED = "delivered"
    FAILED = "failed"  # try again later
    GONE = "gone"  # 410: no more
    CANCELLED = "cancelled"  # the subscription is disabled or deleted


class AttemptDelivery(BaseModel):
    delivery_id: str
    attempt: int
    final: bool = Field(default=False, description="the schedule's last attempt: a failure ends the delivery")


class AttemptResult(BaseModel):
    outcome: AttemptOutcome
    http_status: int | None = None
    retry_after: float | None = Field(default=None, description="seconds the receiver asked us to wait")


class DispatchRequest(BaseModel):
    task_queue: str
    retry: RetrySchedule = Field(default_factory=RetrySchedule)
    limit: int = 200


class DispatchResult(BaseModel):
    events: int = 0
    deliveries: int = 0
    started: int = 0


class DispatchRun(BaseModel):
    """EventDispatchWorkflow's input (carried over continue-as-new)."""

    task_queue: str
    every_seconds: float = 2.0
    retry: RetrySchedule = Field(default_factory=RetrySchedule)
    max_loops: int = 500
    run_number: int = 1
