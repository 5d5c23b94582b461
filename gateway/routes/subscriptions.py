"""Event subscriptions over the API (docs/events.md): admin keys configure them (create, change, delete),
operator keys read them and their delivery log and replay a delivery.

The signing secret (`whsec_...`) is made here and shown in the create answer only; it is stored sealed with
the codec keys (omniroute.config.sealed_secrets), because the worker must sign with it again on every
delivery. A replay records a new pending delivery of the same event (the same `webhook-id`); the event
dispatcher starts it within one dispatch interval, so this route needs no Temporal.
"""

from __future__ import annotations

import secrets
import uuid
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response, status
from starlette.concurrency import run_in_threadpool

from gateway.audit import record_async
from gateway.auth import AdminKey, OperatorKey
from gateway.deps import StoreDep
from gateway.errors import NOT_FOUND
from models.audit import AuditKind
from models.events import (
    Delivery,
    DeliveryPage,
    Subscription,
    SubscriptionCreate,
    SubscriptionCreated,
    SubscriptionUpdate,
)
from omniroute.config.sealed_secrets import new_signing_secret, seal
from omniroute.config.settings import Settings

router = APIRouter(prefix="/v1/subscriptions", tags=["events"])

SubscriptionId = Annotated[str, Path(pattern=r"^sub_[0-9a-f]{16}$", description="the subscription")]
DeliveryId = Annotated[str, Path(pattern=r"^dlv_[0-9a-f]{32}$", description="one of its deliveries")]


def _unknown(subscription_id: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, f"unknown subscription_id {subscription_id!r}")


@router.post("", status_code=status.HTTP_201_CREATED, response_model=SubscriptionCreated)
async def create_subscription(body: SubscriptionCreate, request: Request, store: StoreDep,
                              caller: AdminKey) -> SubscriptionCreated:
    """A new, enabled subscription. Its signing secret is in this answer only."""
    settings: Settings = request.app.state.settings
    subscription_id = f"sub_{secrets.token_hex(8)}"
    secret = new_signing_secret()
    sealed = seal(settings.codec_key_ring, subscription_id, secret)
    created = await run_in_threadpool(store.create_subscription, subscription_id, str(body.url), body.event_types,
                                      body.description, sealed)
    await record_async(store, caller, AuditKind.SUBSCRIPTION_CREATE, subscription_id,
                       event_types=[t.value for t in body.event_types])
    return SubscriptionCreated(**created.model_dump(), secret=secret)


@router.get("", response_model=list[Subscription])
async def list_subscriptions(store: StoreDep, _caller: OperatorKey) -> list[Subscription]:
    return await run_in_threadpool(store.list_subscriptions)


@router.get("/{subscription_id}", response_model=Subscription, responses=NOT_FOUND)
async def get_subscription(subscription_id: SubscriptionId, store: StoreDep, _caller: OperatorKey) -> Subscription:
    found = await run_in_threadpool(store.get_subscription, subscription_id)
    if found is None:
        raise _unknown(subscription_id)
    return found


@router.patch("/{subscription_id}", response_model=Subscription, responses=NOT_FOUND)
async def update_subscription(subscription_id: SubscriptionId, body: SubscriptionUpdate, store: StoreDep,
                              caller: AdminKey) -> Subscription:
    """Change the URL, the event types, the description, or enable / disable it; fields left out stay.
    A disabled subscription gets no new deliveries, and its deliveries under way stop at their next attempt."""
    changes = body.model_dump(exclude_none=True, mode="json")
    updated = await run_in_threadpool(store.update_subscription, subscription_id, changes)
    if updated is None:
        raise _unknown(subscription_id)
    await record_async(store, caller, AuditKind.SUBSCRIPTION_UPDATE, subscription_id, changed=sorted(changes))
    return updated


@router.delete("/{subscription_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response,
               responses=NOT_FOUND)
async def delete_subscription(subscription_id: SubscriptionId, store: StoreDep, caller: AdminKey) -> Response:
    """Delete the subscription and its delivery log."""
    if not await run_in_threadpool(store.delete_subscription, subscription_id):
        raise _unknown(subscription_id)
    await record_async(store, caller, AuditKind.SUBSCRIPTION_DELETE, subscription_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{subscription_id}/deliveries", response_model=DeliveryPage, responses=NOT_FOUND)
async def list_deliveries(
    subscription_id: SubscriptionId, store: StoreDep, _caller: OperatorKey,
    before: Annotated[int | None, Query(ge=1, le=2**62, description="`next_before` of the page before")] = None,
    limit: Annotated[int, Query(ge=1, le=200, description="at most this many deliveries")] = 50,
) -> DeliveryPage:
    """The subscription's deliveries, newest first, each with every attempt (time, HTTP status, error,
    duration)."""
    if await run_in_threadpool(store.get_subscription, subscription_id) is None:
        raise _unknown(subscription_id)
    return await run_in_threadpool(lambda: store.deliveries(subscription_id, before=before, limit=limit))


@router.post("/{subscription_id}/deliveries/{delivery_id}/replay", status_code=status.HTTP_202_ACCEPTED,
             response_model=Delivery, responses=NOT_FOUND)
async def replay_delivery(subscription_id: SubscriptionId, delivery_id: DeliveryId, store: StoreDep,
                          caller: OperatorKey) -> Delivery:
    """Send the delivery's event again, as a new delivery with attempts of its own and the same `webhook-id`
    (receivers dedupe on it). It starts within one dispatch interval."""
    if await run_in_threadpool(store.get_subscription, subscription_id) is None:
        raise _unknown(subscription_id)
    replay = await run_in_threadpool(store.replay_delivery, subscription_id, delivery_id, f"dlv_{uuid.uuid4().hex}")
    if replay is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"unknown delivery_id {delivery_id!r} of {subscription_id!r}")
    await record_async(store, caller, AuditKind.DELIVERY_REPLAY, subscription_id, delivery=delivery_id)
    return replay
