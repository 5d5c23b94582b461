"""Shopify as a channel: its order webhooks in, `POST /webhooks/shopify/{channel}`.

No API key: the `X-Shopify-Hmac-Sha256` (base64 HMAC-SHA256 of the raw body with the channel's secret from
OMNIROUTE_SHOPIFY_WEBHOOK_SECRETS) is checked before the body is read; a missing or bad one is a 401 and
nothing starts. Outside development and test a channel with no secret refuses every webhook with a 503
(Shopify retries for 4 hours, so orders sent while the secret is being set are not lost).

`X-Shopify-Webhook-Id` is the delivery's id: a delivery handled before is answered 200 `replay` and does
nothing (store/webhook_deliveries.py keeps the ids for DELIVERY_MEMORY). Topics (`X-Shopify-Topic`):

- `orders/create`: the order starts (models/shopify.py maps it), with Shopify's order id as
  `channel_order_id`: the same order again, by webhook or by POST /v1/orders, starts nothing new.
- `orders/cancelled`, and `orders/updated` carrying `cancelled_at`: everything not yet shipped is
  cancelled. A cancel the order refuses (its lines have shipped, it has finished) is a 200 with the
  reason, recorded in the audit trail. Shopify does not promise to deliver in order: a cancel of an
  order not started here yet is remembered (as CANCELLED_BEFORE_CREATE, for DELIVERY_MEMORY), and its
  `orders/create` arriving after it, or one that already carries `cancelled_at`, starts nothing.
- `orders/updated` otherwise: lines whose current quantity went to 0 before shipping are cancelled
  (CancelOrder with their line numbers); a quantity lowered but not to 0 cannot be expressed (a cancel
  takes whole lines) and, like any other change (address, shipping, notes), is recorded, not applied.
- `customers/data_request`, `customers/redact`, `shop/redact` (Shopify's mandatory privacy webhooks):
  recorded in the audit trail for an operator (docs/channels-shopify.md says what Omniroute holds).
- any other topic: acknowledged, nothing done.

A signed order that cannot be mapped is a 422 naming the Shopify field; Temporal out of reach is a 503
so that Shopify retries. Neither is remembered as handled.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal, TypeVar

from fastapi import APIRouter, HTTPException, Path, Request, Security, status
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from gateway.deps import ClientDep, StoreDep
from gateway.errors import UNAVAILABLE, Problem, field_error
from gateway.signatures import SHOPIFY_SIGNATURE_HEADER, shopify_signature_valid
from gateway.validation import require_known_postal_code
from models.audit import Actor, ActorRole, AuditEntryIn, AuditKind, DetailValue
from models.order import CancelOrder, LineStatus, order_id_for
from models.shopify import ShopifyOrder, ShopifyOrderError, current_quantities, place_order_from_shopify
from omniroute.client import CancelRejectedError, OmnirouteClient, OrderNotFoundError, WorkflowClosedError
from omniroute.config.settings import Settings
from store import Store

SOURCE = "shopify"
# Orders Shopify cancelled before their orders/create reached us, kept beside the delivery ids.
CANCELLED_BEFORE_CREATE = "shopify-cancelled-before-create"
DELIVERY_MEMORY = timedelta(days=7)  # Shopify retries a delivery for 4 hours
PRIVACY_TOPICS = ("customers/data_request", "customers/redact", "shop/redact")
ChannelPath = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9_]{0,31}$", description="our channel name")]
Outcome = Literal["started", "existing", "cancelled", "recorded", "refused", "replay", "ignored"]

router = APIRouter(prefix="/webhooks", tags=["webhooks"])

signature_scheme = APIKeyHeader(
    name=SHOPIFY_SIGNATURE_HEADER, scheme_name="ShopifySignature", auto_error=False,
    description="Shopify's base64 HMAC-SHA256 of the raw body with the channel's webhook secret.")


class ShopifyReceipt(BaseModel):
    """What became of a Shopify delivery (every 2xx)."""

    webhook_id: str
    topic: str
    outcome: Outcome
    order_id: str | None = None
    detail: str = ""


class PrivacyRequest(BaseModel):
    """The part of a privacy webhook Omniroute records: ids only, never the customer's e-mail or phone."""

    model_config = ConfigDict(extra="ignore")

    shop_domain: str | None = Field(default=None, max_length=255)
    customer: dict[str, object] | None = None
    orders_to_redact: list[int] = Field(default_factory=list, max_length=10_000)
    orders_requested: list[int] = Field(default_factory=list, max_length=10_000)


@router.post(
    "/shopify/{channel}",
    response_model=ShopifyReceipt,
    openapi_extra={"requestBody": {"required": True, "content": {
        "application/json": {"schema": ShopifyOrder.model_json_schema()}}}},
    responses={401: {"model": Problem, "description": "no X-Shopify-Hmac-Sha256, or one that does not verify"},
               **UNAVAILABLE},
)
async def shopify_webhook(
    channel: ChannelPath, request: Request, store: StoreDep, client: ClientDep,
    signature: Annotated[str | None, Security(signature_scheme)] = None,
) -> ShopifyReceipt:
    """A Shopify webhook for `channel`, signed with that channel's secret (no API key): orders/create
    starts the order, orders/cancelled cancels it, orders/updated cancels removed lines, the privacy
    topics are recorded (see the module docstring). Answers 200 whatever became of it (`outcome`)."""
    settings: Settings = request.app.state.settings
    secret = settings.shopify_webhook_secret(channel)
    if secret is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE,
                            f"OMNIROUTE_SHOPIFY_WEBHOOK_SECRETS has no secret for channel {channel}")
    body = await request.body()
    if not shopify_signature_valid(body, signature, secret):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, f"{SHOPIFY_SIGNATURE_HEADER} does not sign this body")
    webhook_id = (request.headers.get("x-shopify-webhook-id") or "").strip()
    if not webhook_id or len(webhook_id) > 200:
        raise field_error(("header", "x-shopify-webhook-id"), "required: 1 to 200 characters", value=webhook_id)
    topic = request.headers.get("x-shopify-topic", "").strip()[:64]
    now = datetime.now(UTC)
    if await run_in_threadpool(store.webhook_handled, SOURCE, webhook_id, now=now):
        return ShopifyReceipt(webhook_id=webhook_id, topic=topic, outcome="replay",
                              detail=f"delivery {webhook_id} was handled before")
    receipt = await _handle(Delivery(channel, webhook_id, topic, store, client), body)
    await run_in_threadpool(lambda: store.remember_webhook(SOURCE, webhook_id, now=now, keep=DELIVERY_MEMORY))
    return receipt


class Delivery:
    """One verified delivery: what it came with and what it acts through."""

    def __init__(self, channel: str, webhook_id: str, topic: str, store: Store, client: OmnirouteClient) -> None:
        self.channel, self.webhook_id, self.topic, self.store, self.client = channel, webhook_id, topic, store, client

    @property
    def actor(self) -> Actor:
        return Actor(role=ActorRole.CHANNEL, id=f"shopify-webhook:{self.channel}")

    def receipt(self, outcome: Outcome, detail: str, order_id: str | None = None) -> ShopifyReceipt:
        return ShopifyReceipt(webhook_id=self.webhook_id, topic=self.topic, outcome=outcome, order_id=order_id,
                              detail=detail)

    async def record(self, kind: AuditKind, subject: str, order_id: str | None, **detail: DetailValue) -> None:
        entry = AuditEntryIn(kind=kind, subject=subject[:200], actor=self.actor, order_id=order_id,
                             detail={"topic": self.topic, "webhook_id": self.webhook_id, **detail})
        await run_in_threadpool(self.store.record_audit, entry)


async def _handle(delivery: Delivery, body: bytes) -> ShopifyReceipt:
    topic = delivery.topic
    if topic in PRIVACY_TOPICS:
        return await _privacy(delivery, _parsed(PrivacyRequest, body))
    if topic not in ("orders/create", "orders/cancelled", "orders/updated"):
        return delivery.receipt("ignored", f"topic {topic or '(none)'} is not one Omniroute takes")
    order = _parsed(ShopifyOrder, body)
    if topic == "orders/create":
        return await _place(delivery, order)
    if topic == "orders/cancelled" or order.cancelled_at is not None:
        return await _cancel(delivery, order, CancelOrder(reason=f"cancelled in Shopify ({_reason(order)})"))
    return await _update(delivery, order)


async def _place(delivery: Delivery, order: ShopifyOrder) -> ShopifyReceipt:
    try:
        placed = place_order_from_shopify(delivery.channel, order)
    except ShopifyOrderError as err:
        raise field_error(("body", *err.loc), err.message, value=err.value) from None
    cancelled_first = await run_in_threadpool(
        delivery.store.webhook_handled, CANCELLED_BEFORE_CREATE, placed.order_id, now=datetime.now(UTC))
    if order.cancelled_at is not None or cancelled_first:
        await delivery.record(AuditKind.CHANNEL_WEBHOOK, placed.order_id, placed.order_id, applied=False,
                              reason="cancelled in Shopify before it was created here")
        return delivery.receipt("ignored", "the order was cancelled in Shopify before it was created here; "
                                "nothing started", placed.order_id)
    if placed.ship_to is not None:
        require_known_postal_code(placed.ship_to.country, placed.ship_to.postal_code,
                                  ("body", "shipping_address", "zip"))
    accepted = await delivery.client.place_order(placed)
    if not accepted.created:
        return delivery.receipt("existing", "the order was placed before", accepted.order_id)
    await delivery.record(AuditKind.ORDER_INTAKE, accepted.order_id, accepted.order_id, channel=delivery.channel,
                          lines=len(placed.lines))
    return delivery.receipt("started", f"order started with {len(placed.lines)} line(s)", accepted.order_id)


async def _cancel(delivery: Delivery, order: ShopifyOrder, request: CancelOrder) -> ShopifyReceipt:
    order_id = order_id_for(delivery.channel, str(order.id))
    try:
        result = await delivery.client.cancel_order(order_id, request)
    except OrderNotFoundError:
        await run_in_threadpool(lambda: delivery.store.remember_webhook(
            CANCELLED_BEFORE_CREATE, order_id, now=datetime.now(UTC), keep=DELIVERY_MEMORY))
        await delivery.record(AuditKind.CHANNEL_WEBHOOK, order_id, order_id, applied=False,
                              reason="unknown order: cancelled before its orders/create; it will not start")
        return delivery.receipt("ignored", f"no order {order_id}; its orders/create, if it comes, starts nothing",
                                order_id)
    except (CancelRejectedError, WorkflowClosedError) as refused:
        await delivery.record(AuditKind.ORDER_CANCEL, order_id, order_id, applied=False, refused=str(refused)[:300],
                              lines=request.line_nos)
        return delivery.receipt("refused", str(refused), order_id)
    await delivery.record(AuditKind.ORDER_CANCEL, order_id, order_id, applied=True, lines=result.cancelled_line_nos,
                          shipments=result.cancelled_shipment_ids)
    return delivery.receipt(
        "cancelled", f"lines cancelled: {result.cancelled_line_nos}; status {result.status.value}", order_id)


async def _update(delivery: Delivery, order: ShopifyOrder) -> ShopifyReceipt:
    """Cancel the lines Shopify's order edits took to 0; record everything else."""
    order_id = order_id_for(delivery.channel, str(order.id))
    try:
        view = await delivery.client.get_order(order_id)
    except OrderNotFoundError:
        await delivery.record(AuditKind.CHANNEL_WEBHOOK, order_id, order_id, applied=False, reason="unknown order")
        return delivery.receipt("ignored", f"no order {order_id}", order_id)
    now = current_quantities(order)
    removed, lowered = [], []
    for line in view.lines:
        if line.status not in (LineStatus.OPEN, LineStatus.ALLOCATED, LineStatus.BACKORDERED) or line.sku not in now:
            continue
        if now[line.sku] == 0:
            removed.append(line.line_no)
        elif now[line.sku] < line.quantity - line.quantity_cancelled:
            lowered.append(line.line_no)
    if removed:
        receipt = await _cancel(delivery, order, CancelOrder(line_nos=removed, reason="removed in Shopify"))
        if lowered:
            receipt.detail += f"; lines {lowered} lowered but not to 0 are not changed"
        return receipt
    await delivery.record(AuditKind.CHANNEL_WEBHOOK, order_id, order_id, applied=False, lowered_lines=lowered)
    detail = (f"lines {lowered} lowered but not to 0: a cancel takes whole lines, nothing changed" if lowered
              else "no line removed: the update is recorded, not applied")
    return delivery.receipt("recorded", detail, order_id)


async def _privacy(delivery: Delivery, request: PrivacyRequest) -> ShopifyReceipt:
    orders = request.orders_to_redact or request.orders_requested
    customer_id = (request.customer or {}).get("id")
    await delivery.record(
        AuditKind.PRIVACY_REQUEST, f"shopify:{delivery.channel}", None, shop_domain=request.shop_domain,
        customer_id=str(customer_id) if isinstance(customer_id, int | str) else None,
        order_ids=[order_id_for(delivery.channel, str(order)) for order in orders[:200]],
        action="recorded for an operator")
    return delivery.receipt("recorded", "recorded in the audit trail for an operator (docs/channels-shopify.md)")


M = TypeVar("M", bound=BaseModel)


def _parsed(model: type[M], body: bytes) -> M:
    """The body as `model`, or a 422 naming the first field that is wrong."""
    try:
        return model.model_validate_json(body)
    except ValidationError as err:
        error = err.errors()[0]
        raise field_error(("body", *error["loc"]), error["msg"], kind=error["type"],
                          value=error.get("input")) from None


def _reason(order: ShopifyOrder) -> str:
    """Shopify's cancel reason (one of its words: customer, fraud, inventory, declined, staff, other)."""
    reason = (order.cancel_reason or "").strip()
    return reason if reason.replace("_", "").isalpha() and reason.isascii() else "no reason given"
