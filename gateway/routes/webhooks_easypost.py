"""EasyPost's tracker webhooks in: `POST /webhooks/easypost`.

No API key: the `X-Hmac-Signature` is checked against OMNIROUTE_EASYPOST_WEBHOOK_SECRET before the body
is read (401 if it does not match, nothing moves). A signed `tracker.updated` (or `tracker.created`)
Event becomes one shipment event on the shipment with that tracking code, whose event id is EasyPost's
event id, so a redelivery is a replay:

| tracker status | shipment event |
|---|---|
| in_transit, out_for_delivery, delivered | the event of that name |
| failure | exception `failed_attempt` |
| return_to_sender | exception `returned_to_sender` |
| available_for_pickup | exception `available_for_pickup` |
| pre_transit, unknown, cancelled, error | none (acknowledged) |

A scan of a labelled shipment whose node has not reported it shipped yet (released, accepted, picked,
packed) proves the carrier has the parcel: the fulfilment records `shipped` first (at the scan's time)
and then the scan, so the answer is `applied` (`packed -> in_transit`); the node's own `shipped` that
comes later is answered as done (`carrier_first`) on the node's route.

EasyPost retries anything but a 2xx and disables webhooks that keep failing, so everything that is not
the sender's fault or ours to retry is a 200 saying what happened (`outcome`): applied, replay, stale
(the shipment is past that state or cannot take it: carriers resend and reorder), ignored (a status or
event that moves nothing, an unknown tracking code, a shipment no fulfilment takes events for). A body
that is signed but not an Event is a 422 naming the field; Temporal out of reach a 503 (retried).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, HTTPException, Request, Security, status
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from gateway.deps import ClientDep, StoreDep
from gateway.errors import UNAVAILABLE, Problem
from gateway.signatures import EASYPOST_SIGNATURE_HEADER, easypost_signature_valid
from models.audit import Actor, ActorRole, AuditEntryIn, AuditKind
from models.shipment import ShipmentEvent, ShipmentEventType, TrackingException
from omniroute.client import EventRejectedError, ShipmentNotFoundError, WorkflowClosedError
from omniroute.config.settings import DEV_EASYPOST_WEBHOOK_SECRET, Settings

log = logging.getLogger(__name__)

EASYPOST = Actor(role=ActorRole.SYSTEM, id="easypost")
TRACKER_EVENTS = ("tracker.updated", "tracker.created")
MOVES: dict[str, ShipmentEventType] = {
    "in_transit": ShipmentEventType.IN_TRANSIT, "out_for_delivery": ShipmentEventType.OUT_FOR_DELIVERY,
    "delivered": ShipmentEventType.DELIVERED,
}
EXCEPTIONS: dict[str, TrackingException] = {
    "failure": TrackingException.FAILED_ATTEMPT, "return_to_sender": TrackingException.RETURNED_TO_SENDER,
    "available_for_pickup": TrackingException.AVAILABLE_FOR_PICKUP,
}

router = APIRouter(prefix="/webhooks", tags=["webhooks"])

signature_scheme = APIKeyHeader(
    name=EASYPOST_SIGNATURE_HEADER, scheme_name="EasyPostSignature", auto_error=False,
    description="EasyPost's HMAC-SHA256 of the body with the webhook secret (`hmac-sha256-hex=...`).")


class TrackingDetail(BaseModel):
    model_config = ConfigDict(extra="ignore")

    status: str | None = Field(default=None, max_length=64)
    at: datetime | None = Field(default=None, alias="datetime")


class Tracker(BaseModel):
    """The part of EasyPost's Tracker the gateway reads."""

    model_config = ConfigDict(extra="ignore")

    tracking_code: str = Field(min_length=1, max_length=100)
    status: str = Field(min_length=1, max_length=64)
    carrier: str | None = Field(default=None, max_length=50)
    tracking_details: list[TrackingDetail] = Field(default_factory=list, max_length=1000)


class EasyPostEvent(BaseModel):
    """EasyPost's Event: `result` is the Tracker for tracker.* events."""

    model_config = ConfigDict(extra="ignore")

    id: str = Field(min_length=1, max_length=200)
    description: str = Field(min_length=1, max_length=100)
    result: dict[str, Any] | None = None


class WebhookAnswer(BaseModel):
    outcome: Literal["applied", "replay", "stale", "ignored"]
    detail: str
    shipment_id: str | None = None
    event_type: ShipmentEventType | None = None


def webhook_secret(settings: Settings) -> str | None:
    """The secret EasyPost signs with; None (every webhook refused, 503) when a deployment outside
    development and test still has the published development secret."""
    secret = settings.easypost_webhook_secret.get_secret_value()
    if settings.environment not in ("development", "test") and secret == DEV_EASYPOST_WEBHOOK_SECRET:
        return None
    return secret


@router.post(
    "/easypost",
    response_model=WebhookAnswer,
    openapi_extra={"requestBody": {"required": True, "content": {
        "application/json": {"schema": EasyPostEvent.model_json_schema()}}}},
    responses={401: {"model": Problem, "description": "the X-Hmac-Signature does not sign the body"},
               **UNAVAILABLE},
)
async def easypost_webhook(
    request: Request, store: StoreDep, client: ClientDep,
    signature: Annotated[str | None, Security(signature_scheme)] = None,
) -> WebhookAnswer:
    """An EasyPost event webhook, signed with the shared secret (`X-Hmac-Signature`, no API key): a
    tracker's status moves the shipment with that tracking code (in_transit, out_for_delivery,
    delivered) or records a carrier exception. Answers 200 whatever became of it (see `outcome`)."""
    secret: str | None = request.app.state.easypost_webhook_secret
    if secret is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE,
                            "OMNIROUTE_EASYPOST_WEBHOOK_SECRET is not set for this deployment")
    body = await request.body()
    if not easypost_signature_valid(body, signature, secret):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, f"{EASYPOST_SIGNATURE_HEADER} does not sign this body")
    event = _parsed(EasyPostEvent, body, ())
    if event.description not in TRACKER_EVENTS:
        return WebhookAnswer(outcome="ignored", detail=f"{event.description} events move no shipment")
    tracker = _parsed(Tracker, event.result, ("result",))
    kind, exception = MOVES.get(tracker.status), EXCEPTIONS.get(tracker.status)
    if kind is None and exception is None:
        return WebhookAnswer(outcome="ignored", detail=f"tracker status {tracker.status} moves no shipment")
    record = await run_in_threadpool(store.find_shipment_by_tracking, tracker.tracking_code)
    if record is None:
        log.info("EasyPost event %s: no shipment has tracking code %s", event.id, tracker.tracking_code)
        return WebhookAnswer(outcome="ignored", detail=f"no shipment has tracking code {tracker.tracking_code}")
    shipment_event = ShipmentEvent(
        shipment_id=record.shipment_id, type=kind or ShipmentEventType.EXCEPTION, event_id=event.id,
        exception=exception, carrier=tracker.carrier, tracking_number=tracker.tracking_code,
        occurred_at=_when(tracker))
    answer = WebhookAnswer(outcome="stale", detail="", shipment_id=record.shipment_id,
                           event_type=shipment_event.type)
    try:
        applied = await client.send_shipment_event(shipment_event)
    except (EventRejectedError, WorkflowClosedError) as refused:
        log.warning("EasyPost event %s (%s) for %s: stale: %s", event.id, tracker.status, record.shipment_id, refused)
        return answer.model_copy(update={"detail": str(refused)})
    except ShipmentNotFoundError:
        return answer.model_copy(update={"outcome": "ignored",
                                         "detail": f"shipment {record.shipment_id} takes no events now"})
    if applied.replay:
        return answer.model_copy(update={"outcome": "replay", "detail": f"event {event.id} was applied before"})
    detail: dict[str, Any] = {"type": applied.type.value, "to_state": applied.to_state.value}
    if exception is not None:
        detail["exception"] = exception.value
    await run_in_threadpool(store.record_audit, AuditEntryIn(
        kind=AuditKind.SHIPMENT_EVENT, subject=record.shipment_id, actor=EASYPOST, order_id=applied.order_id,
        detail=detail))
    return answer.model_copy(update={
        "outcome": "applied", "detail": f"{applied.from_state.value} -> {applied.to_state.value}"})


M = TypeVar("M", bound=BaseModel)


def _parsed(model: type[M], data: bytes | dict[str, Any] | None, loc: tuple[str, ...]) -> M:
    """`data` as `model`, or a 422 naming the first field that is wrong."""
    try:
        if isinstance(data, bytes):
            return model.model_validate_json(data)
        return model.model_validate(data)
    except ValidationError as err:
        error = err.errors()[0]
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, [{
            "type": error["type"], "loc": ["body", *loc, *map(str, error["loc"])], "msg": error["msg"]}]) from None


def _when(tracker: Tracker) -> datetime | None:
    """When the carrier reported the status: its latest tracking detail of that status."""
    times = [d.at if d.at.tzinfo else d.at.replace(tzinfo=UTC)
             for d in tracker.tracking_details if d.status == tracker.status and d.at]
    return max(times) if times else None
