"""Stock counts and deltas from warehouses, stores and 3PLs, one position or a batch (ATP: availability.py)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, HTTPException, Path, status

from gateway.audit import actor_of, record
from gateway.auth import NodeKey, forbid_node
from gateway.deps import ClientDep, StoreDep
from gateway.errors import NOT_FOUND, field_error
from models.allocation import InventoryBatch, InventoryBatchResult
from models.api import InventoryCount
from models.audit import AuditKind
from models.inventory import InventoryPosition, Sku
from models.network import NodeId
from omniroute.client import OmnirouteClient, OmnirouteError
from store import Store
from store.feeds import FeedItemError, StaleCountError

router = APIRouter(prefix="/v1", tags=["inventory"])
log = logging.getLogger("omniroute.gateway")


# `{sku:path}`: a SKU may contain "/", which would otherwise end the path segment.
@router.put("/inventory/{node_id}/{sku:path}", response_model=InventoryPosition, responses=NOT_FOUND)
def put_on_hand(
    node_id: Annotated[NodeId, Path()], sku: Annotated[Sku, Path()], count: InventoryCount, store: StoreDep,
    client: ClientDep, background: BackgroundTasks, caller: NodeKey,
) -> InventoryPosition:
    """Set the absolute on-hand count of `sku` at `node_id` (a WMS count, not a delta); answers
    the position with its ATP. Unknown node: 404; a node key of other nodes: 403. Orders waiting
    for `sku` on backorder are told at once when it has ATP."""
    if not caller.owns_node(node_id):
        raise forbid_node(node_id)
    actor = actor_of(caller)
    position = store.set_on_hand(node_id, sku, count.on_hand, source=count.source, reason=count.reason, actor=actor)
    if count.safety_stock is not None:
        position = store.set_safety_stock(node_id, sku, count.safety_stock, source=count.source, actor=actor)
    record(store, caller, AuditKind.INVENTORY_COUNT, node_id, sku=sku, on_hand=count.on_hand,
           safety_stock=count.safety_stock)
    if position.atp > 0:
        _wake_backorders(store, client, background, [sku])
    return position


@router.post(
    "/inventory:batch",
    response_model=InventoryBatchResult,
    responses={409: {"description": "a count older than its position's last movement"}},
)
def post_inventory_batch(
    batch: InventoryBatch, store: StoreDep, client: ClientDep, background: BackgroundTasks, caller: NodeKey
) -> InventoryBatchResult:
    """Counts (`on_hand`) and deltas (`delta`, receipt or adjustment) for many positions, applied in one
    transaction or not at all. A bad item: 422 naming `items[i].field`; a count whose `as_of` is older
    than the position's last on-hand movement: 409 naming the item, with `last_movement_at`. Orders
    waiting on backorder for a SKU whose stock went up are told at once. A node key may send items of
    its own nodes only (another node's item: 403 naming it, and nothing is applied)."""
    for item in batch.items:
        if not caller.owns_node(item.node_id):
            raise forbid_node(item.node_id)
    try:
        result = InventoryBatchResult(applied=store.apply_inventory_feed(batch.items, actor=actor_of(caller)))
    except StaleCountError as stale:
        error = {
            "type": "stale_count",
            "loc": ["body", "items", stale.index, "as_of"],
            "msg": stale.message,
            "input": stale.as_of.isoformat(),
            "last_movement_at": stale.last_movement_at.isoformat(),
        }
        raise HTTPException(status.HTTP_409_CONFLICT, detail=[error]) from stale
    except FeedItemError as bad:
        raise field_error(["body", "items", bad.index, bad.field], bad.message) from bad
    nodes = sorted({item.node_id for item in batch.items})
    record(store, caller, AuditKind.INVENTORY_FEED, ",".join(nodes), items=len(batch.items), nodes=nodes[:20])
    _wake_backorders(store, client, background, (item.sku for item in result.applied if item.on_hand_delta > 0))
    return result


def _wake_backorders(
    store: Store, client: OmnirouteClient, background: BackgroundTasks, skus: Iterable[str]
) -> None:
    """If an order waits on backorder for one of `skus`, run the backorder sweep once the response is
    sent. The stock is already recorded: a sweep that cannot start now is logged, and the schedule's
    next run finds the order anyway."""
    arrived = set(skus)
    if not arrived:
        return
    if not any(arrived.intersection(wanted) for _, _, wanted in store.orders_with_backorders()):
        return

    async def sweep() -> None:
        try:
            if not await client.sweep_backorders():
                log.warning("stock arrived for orders on backorder, but no backorder-sweep schedule exists yet")
        except OmnirouteError as err:
            log.warning("stock arrived for orders on backorder; the backorder sweep could not start now: %s", err)

    background.add_task(sweep)
