"""SendGrid's Event Webhook in: `POST /webhooks/sendgrid`.

No API key: the ECDSA P-256 signature SendGrid sends (`X-Twilio-Email-Event-Webhook-Signature` over
`X-Twilio-Email-Event-Webhook-Timestamp` + the raw body, models/sendgrid_signature.py) is checked with the
public key in OMNIROUTE_SENDGRID_WEBHOOK_PUBLIC_KEY before the body is read: a missing, bad or stale (over
300 s) one is a 401 and nothing is recorded. No key configured: every post is a 503 (SendGrid retries for
72 hours). There is no development default: the sandbox signs with a new key each run and publishes it at
`GET /v3/user/webhooks/event/settings/signed`.

A post is a JSON array of events. An event is ours when its custom args carry the `reference` the notify
activity sends (an order id, or an RMA whose order is taken) naming an order in the app DB, and the
message kind is known: the message ledger's kind for its `message_key`, else the `kind` custom arg when it
is one of our notification kinds. Each `delivered`, `bounce` or `dropped` event of ours is recorded as an
audit entry `message.event` on that order (the event, the message kind and key, SendGrid's status code;
never the e-mail address), which the order's timeline shows. Other event types and events for no message
of ours are ignored. Each `sg_event_id` is remembered for DELIVERY_MEMORY (store/webhook_deliveries.py):
the same event again, in this post or a retried one, is a replay. The answer is 200 with the counts.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, HTTPException, Request, Security, status
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from starlette.concurrency import run_in_threadpool

from gateway.deps import StoreDep
from gateway.errors import UNAVAILABLE, Problem, field_error
from models.audit import Actor, ActorRole, AuditEntryIn, AuditKind
from models.notify import MessageChannel, NotificationKind
from models.sendgrid_signature import SIGNATURE_HEADER, TIMESTAMP_HEADER, event_webhook_valid
from omniroute.config.settings import Settings
from store import Store

SOURCE = "sendgrid"
DELIVERY_MEMORY = timedelta(days=4)  # SendGrid retries a failed post for 72 hours
RECORDED_EVENTS = frozenset({"delivered", "bounce", "dropped"})
MAX_EVENTS = 10_000
SENDGRID = Actor(role=ActorRole.SYSTEM, id="sendgrid")

router = APIRouter(prefix="/webhooks", tags=["webhooks"])

signature_scheme = APIKeyHeader(
    name=SIGNATURE_HEADER, scheme_name="SendGridSignature", auto_error=False,
    description=f"SendGrid's base64 ECDSA P-256 signature of `{TIMESTAMP_HEADER}` + the raw body, verified "
                "with OMNIROUTE_SENDGRID_WEBHOOK_PUBLIC_KEY.")


class SendGridEvent(BaseModel):
    """The part of one Event Webhook event the gateway reads; `reference`, `kind` and `message_key` are
    the custom args the notify activity sends. The e-mail address is not read."""

    model_config = ConfigDict(extra="ignore")

    event: str = Field(min_length=1, max_length=64)
    sg_event_id: str = Field(min_length=1, max_length=200)
    sg_message_id: str | None = Field(default=None, max_length=300)
    timestamp: int | None = None
    reference: str | None = Field(default=None, max_length=200)
    kind: str | None = Field(default=None, max_length=64)
    message_key: str | None = Field(default=None, max_length=200)
    status: str | None = Field(default=None, max_length=32)


_EVENTS = TypeAdapter(list[SendGridEvent])
_KINDS = frozenset(kind.value for kind in NotificationKind)


class SendGridReceipt(BaseModel):
    """What became of the post's events (every 2xx)."""

    recorded: int = Field(description="events recorded on their order's timeline")
    ignored: int = Field(description="events of another type, or for no message of ours")
    replays: int = Field(description="events whose sg_event_id was handled before")


@router.post(
    "/sendgrid",
    response_model=SendGridReceipt,
    openapi_extra={"requestBody": {"required": True, "content": {
        "application/json": {"schema": {"type": "array", "maxItems": MAX_EVENTS,
                                        "items": SendGridEvent.model_json_schema()}}}}},
    responses={401: {"model": Problem, "description": f"no {SIGNATURE_HEADER}, or one that does not verify"},
               **UNAVAILABLE},
)
async def sendgrid_webhook(
    request: Request, store: StoreDep, signature: Annotated[str | None, Security(signature_scheme)] = None,
) -> SendGridReceipt:
    """A signed SendGrid Event Webhook post (no API key): each delivered, bounce or dropped event for one of
    our messages is recorded on its order's timeline, once per `sg_event_id`. Answers 200 with the counts."""
    settings: Settings = request.app.state.settings
    public_key = settings.sendgrid_webhook_public_key
    if not public_key:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE,
                            "OMNIROUTE_SENDGRID_WEBHOOK_PUBLIC_KEY is not set for this deployment")
    body = await request.body()
    if not event_webhook_valid(public_key, body, signature, request.headers.get(TIMESTAMP_HEADER)):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED,
                            f"{SIGNATURE_HEADER} with {TIMESTAMP_HEADER} does not sign this body")
    events = _parsed(body)
    return await run_in_threadpool(_handle, store, events, datetime.now(UTC))


def _handle(store: Store, events: list[SendGridEvent], now: datetime) -> SendGridReceipt:
    counts = {"recorded": 0, "ignored": 0, "replays": 0}
    for event in events:
        if store.webhook_handled(SOURCE, event.sg_event_id, now=now):
            counts["replays"] += 1
            continue
        entry = _entry(store, event)
        if entry is None:
            counts["ignored"] += 1
        else:
            store.record_audit(entry)
            counts["recorded"] += 1
        store.remember_webhook(SOURCE, event.sg_event_id, now=now, keep=DELIVERY_MEMORY)
    return SendGridReceipt(**counts)


def _entry(store: Store, event: SendGridEvent) -> AuditEntryIn | None:
    """The audit entry for an event of ours worth recording, else None."""
    if event.event not in RECORDED_EVENTS or not event.reference:
        return None
    order_id = _order_of(store, event.reference)
    if order_id is None:
        return None
    message_kind = _message_kind(store, event)
    if message_kind is None:
        return None
    return AuditEntryIn(
        kind=AuditKind.MESSAGE_EVENT, subject=event.message_key or order_id, actor=SENDGRID, order_id=order_id,
        detail={"event": event.event, "message_kind": message_kind, "message_key": event.message_key,
                "sg_event_id": event.sg_event_id, "status": event.status})


def _order_of(store: Store, reference: str) -> str | None:
    """The order a message's reference names: the order itself, or a return's order."""
    if store.get_order(reference) is not None:
        return reference
    found = store.get_return(reference)
    return found.order_id if found is not None else None


def _message_kind(store: Store, event: SendGridEvent) -> str | None:
    if event.message_key:
        record = store.message_record(event.message_key, MessageChannel.EMAIL.value)
        if record is not None:
            return record.kind
    if event.kind in _KINDS:
        return event.kind
    return None


def _parsed(body: bytes) -> list[SendGridEvent]:
    """The post's events, or a 422 naming the first field that is wrong."""
    try:
        events = _EVENTS.validate_json(body)
    except ValidationError as err:
        error = err.errors()[0]
        raise field_error(("body", *error["loc"]), error["msg"], kind=error["type"],
                          value=error.get("input")) from None
    if len(events) > MAX_EVENTS:
        raise field_error(("body",), f"at most {MAX_EVENTS} events a post", value=len(events))
    return events
