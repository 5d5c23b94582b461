"""An order's timeline: what happened to it, in time order, with who did each thing (gateway/timeline.py
merges it). It answers from the app DB even when Temporal is out of reach; `live_view_read` says
whether the workflow's own account could be added."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from gateway.auth import ChannelOrOperatorKey
from gateway.deps import ClientDep, StoreDep
from gateway.errors import NOT_FOUND
from gateway.routes.orders import OrderIdPath
from gateway.timeline import OrderSources, order_timeline
from models.audit import AuditFilter
from models.order import OrderView, channel_of_order
from models.timeline import OrderTimeline
from omniroute.client import OmnirouteClient
from omniroute.errors import NotFoundError, OmnirouteError, OrderNotFoundError
from store import Store

router = APIRouter(prefix="/v1/orders", tags=["orders"])
log = logging.getLogger("omniroute.gateway")

# An order's own audit entries (intake, cancels, releases, node events, returns): far fewer in practice.
MAX_ORDER_AUDIT_ENTRIES = 1000


@router.get("/{order_id}/timeline", response_model=OrderTimeline, responses=NOT_FOUND)
async def get_order_timeline(
    order_id: OrderIdPath, store: StoreDep, client: ClientDep, caller: ChannelOrOperatorKey
) -> OrderTimeline:
    """Intake, rules fired, the decision (with the cost model and rules versions it used),
    reservations, commits and releases, node events, shipping (with the label) and delivery, cancels,
    hold releases and returns, oldest first, each with its actor: a key (role and key id), a workflow
    or the system. `notes` adds the workflow's own account when it answers. A channel key sees its own
    channels' orders only (another's: 404), and other keys by their role only."""
    if not caller.owns_channel(channel_of_order(order_id)):
        raise OrderNotFoundError(order_id)
    sources = await run_in_threadpool(read_sources, store, order_id)
    view, live_view_read = await live_view(client, order_id)
    if view is None and sources.empty:
        raise OrderNotFoundError(order_id)
    return order_timeline(order_id, sources, view, live_view_read=live_view_read,
                          viewer_key_id=None if caller.sees_everything else caller.key_id)


def read_sources(store: Store, order_id: str) -> OrderSources:
    """What the app DB knows of the order: its record, ledger movements, shipments and audit entries."""
    audit = store.audit_entries(AuditFilter(order_id=order_id), limit=MAX_ORDER_AUDIT_ENTRIES)
    return OrderSources(record=store.get_order(order_id), movements=store.order_movements(order_id),
                        shipments=store.shipments_for_order(order_id), audit=audit[::-1])


async def live_view(client: OmnirouteClient, order_id: str) -> tuple[OrderView | None, bool]:
    """The workflow's view and whether it could be asked (no workflow: asked, and None)."""
    try:
        return await client.get_order(order_id), True
    except NotFoundError:
        return None, True
    except OmnirouteError as err:
        log.info("timeline of %s from the DB alone: the order's workflow did not answer: %s", order_id, err)
        return None, False
