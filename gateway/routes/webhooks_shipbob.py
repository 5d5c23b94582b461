"""ShipBob's webhooks in: each verified delivery becomes a shipment event on the fulfilment of the shipment
whose id is the ShipBob order's `reference_id`.

Who may call: whoever signs with the ShipBob webhook secret of the node the webhook's order belongs to
(Standard Webhooks, as ShipBob documents: `webhook-id`, `webhook-timestamp` within 5 minutes,
`webhook-signature` = `v1,` base64 HMAC-SHA256 of `{id}.{timestamp}.{raw body}`), checked by the
`standardwebhooks` library before anything is moved. A retailer may run several ShipBob accounts (one 3PL
node each): the raw body's `reference_id` (our shipment id) names the shipment, its node's
`provider.webhook_secret_ref` names the secret in the partner secrets; a node that names none, or a
body that names no shipment of a 3PL node, is checked with the deployment's secret
(`OMNIROUTE_SHIPBOB_WEBHOOK_SECRET_REF`). So a delivery signed with another account's secret is a 401.
No API key is needed. A missing or bad signature is a 401 before the body is validated, and nothing
moves; a signed body that is not an order webhook is a 422 naming the field.

Topics: `order.shipped` → shipped (with ShipBob's carrier and tracking), `order.shipment.delivered` and
`order.delivered` → delivered, `order.shipment.tracking.updated` → in_transit / out_for_delivery /
delivered by its status, `order.shipment.cancelled` → cancelled (the answer to a cancel we asked for;
a cancel ShipBob made on its own is a `rejected`: the shipment is handed back and planned elsewhere).
The webhook id is the event id, so a repeated delivery is answered `replay` and moves nothing twice.
Anything that can never apply (another topic, an order that is not one of our 3PL shipments, an event
the shipment is past) is a 200 saying so, since ShipBob would otherwise retry it for days; only
Temporal being out of reach is a 503, for ShipBob to retry.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Security, status
from fastapi.security import APIKeyHeader
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError
from starlette.concurrency import run_in_threadpool

from gateway.audit import record_async
from gateway.auth import Principal
from gateway.deps import ClientDep, StoreDep
from gateway.errors import UNAVAILABLE, Problem
from models.audit import AuditKind
from models.fulfilment import ShipmentEventApplied
from models.keys import Role
from models.network import NodeKind
from models.shipment import ShipmentEvent, ShipmentEventType
from models.threepl import ShipBobWebhook, WebhookReceipt
from omniroute.client import EventRejectedError, OmnirouteClient, ShipmentNotFoundError, WorkflowClosedError
from omniroute.config.settings import Settings
from store import Store

TOPIC_HEADER = "x-webhook-topic"
ACTOR = "shipbob-webhook"
_TOPICS = {
    "order.shipped": ShipmentEventType.SHIPPED,
    "order.shipment.delivered": ShipmentEventType.DELIVERED,
    "order.delivered": ShipmentEventType.DELIVERED,
    "order.shipment.cancelled": ShipmentEventType.CANCELLED,
}
_TRACKING_STATUSES = {"InTransit": ShipmentEventType.IN_TRANSIT, "OutForDelivery": ShipmentEventType.OUT_FOR_DELIVERY,
                      "Delivered": ShipmentEventType.DELIVERED}

signature_scheme = APIKeyHeader(
    name="webhook-signature", scheme_name="ShipBobSignature", auto_error=False,
    description="ShipBob's Standard Webhooks signature (with `webhook-id` and `webhook-timestamp`).")

router = APIRouter(prefix="/webhooks", tags=["webhooks"])


@dataclass(frozen=True)
class Delivery:
    """A delivery whose signature verified: its id (stable across retries) and topic."""

    webhook_id: str
    topic: str


async def verified_delivery(
    request: Request, store: StoreDep, _signature: Annotated[str | None, Security(signature_scheme)] = None,
) -> Delivery:
    """401 unless the raw body carries a valid signature with the secret of the node its order belongs
    to (else the deployment's); runs before the body is validated."""
    settings: Settings = request.app.state.settings
    body = await request.body()
    secret_ref = await run_in_threadpool(_webhook_secret_ref, store, _reference_id(body))
    try:
        secret = settings.partner_secret(secret_ref or settings.shipbob_webhook_secret_ref)
    except ValueError as err:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE,
                            f"ShipBob webhooks are not configured: {err}") from None
    try:
        Webhook(secret).verify(body, dict(request.headers), json_parse=False)
    except WebhookVerificationError as err:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, f"webhook-signature: {err}") from None
    return Delivery(request.headers["webhook-id"], request.headers.get(TOPIC_HEADER, ""))


@router.post(
    "/shipbob",
    response_model=WebhookReceipt,
    responses={401: {"model": Problem, "description": "no signature, or one that does not verify"}, **UNAVAILABLE},
)
async def shipbob_webhook(payload: ShipBobWebhook, delivery: Annotated[Delivery, Depends(verified_delivery)],
                          store: StoreDep, client: ClientDep) -> WebhookReceipt:
    """A ShipBob webhook: verified, then applied to the shipment it names (see the module docstring)."""
    webhook_id, topic = delivery.webhook_id, delivery.topic
    receipt = WebhookReceipt(webhook_id=webhook_id, topic=topic, shipment_id=payload.reference_id, applied=False)
    kind = _TOPICS.get(topic) or (_TRACKING_STATUSES.get(payload.status or "")
                                  if topic == "order.shipment.tracking.updated" else None)
    if kind is None:
        return receipt.model_copy(update={"note": f"topic {topic or '(none)'} ({payload.status}) moves nothing"})
    node_id = await run_in_threadpool(_three_pl_node_of, store, payload.reference_id)
    if node_id is None:
        return receipt.model_copy(update={"note": f"{payload.reference_id} is not a shipment from a 3PL node"})
    try:
        applied = await _apply(client, _event(payload, kind, f"shipbob:{webhook_id}"))
    except (EventRejectedError, ShipmentNotFoundError, WorkflowClosedError) as err:
        return receipt.model_copy(update={"note": str(err)})
    if not applied.replay:
        await record_async(store, Principal(ACTOR, Role.NODE, nodes=frozenset({node_id})), AuditKind.SHIPMENT_EVENT,
                           payload.reference_id, order_id=applied.order_id, type=applied.type.value,
                           to_state=applied.to_state.value, webhook_id=webhook_id)
    return receipt.model_copy(update={"applied": not applied.replay, "replay": applied.replay,
                                      "note": f"{applied.type.value}: {applied.to_state.value}"})


async def _apply(client: OmnirouteClient, event: ShipmentEvent) -> ShipmentEventApplied:
    """Send the event; a `cancelled` nobody asked for is ShipBob cancelling on its own: a `rejected`."""
    try:
        return await client.send_shipment_event(event)
    except EventRejectedError as err:
        if event.type is not ShipmentEventType.CANCELLED or "no cancel is waiting" not in str(err):
            raise
    rejected = event.model_copy(update={"type": ShipmentEventType.REJECTED, "event_id": f"{event.event_id}:rejected",
                                        "reason": "ShipBob cancelled the order"})
    return await client.send_shipment_event(rejected)


def _event(payload: ShipBobWebhook, kind: ShipmentEventType, event_id: str) -> ShipmentEvent:
    tracking = payload.tracking
    return ShipmentEvent(shipment_id=payload.reference_id, type=kind, event_id=event_id, occurred_at=payload.event_time,
                         carrier=tracking.carrier if tracking else None,
                         tracking_number=tracking.tracking_id if tracking else None)


def _reference_id(body: bytes) -> str | None:
    """The shipment id an unverified body names, to choose the secret to verify it with (nothing else is
    read from it before it verifies)."""
    try:
        data = json.loads(body)
    except ValueError:
        return None
    reference = data.get("reference_id") if isinstance(data, dict) else None
    return reference if isinstance(reference, str) and 0 < len(reference) <= 300 else None


def _webhook_secret_ref(store: Store, shipment_id: str | None) -> str | None:
    """The webhook secret's name of the 3PL node the shipment is from, when that node names one."""
    if shipment_id is None:
        return None
    record = store.get_shipment(shipment_id)
    node = store.get_node(record.node_id) if record is not None else None
    if node is None or node.kind is not NodeKind.THREE_PL or node.provider is None:
        return None
    return node.provider.webhook_secret_ref


def _three_pl_node_of(store: Store, shipment_id: str) -> str | None:
    """The node of the shipment when it is one of ours from a 3PL node (a ShipBob account also sends the
    webhooks of orders other systems made there)."""
    record = store.get_shipment(shipment_id)
    if record is None:
        return None
    node = store.get_node(record.node_id)
    return record.node_id if node is not None and node.kind is NodeKind.THREE_PL else None
