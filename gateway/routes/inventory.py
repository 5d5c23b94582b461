"""Stock counts and deltas from warehouses, stores and 3PLs, one position or a batch (ATP: availability.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, status

from gateway.deps import StoreDep
from gateway.errors import NOT_FOUND, field_error
from models.allocation import InventoryBatch, InventoryBatchResult
from models.api import InventoryCount
from models.inventory import InventoryPosition, Sku
from models.network import NodeId
from store.feeds import FeedItemError, StaleCountError

router = APIRouter(prefix="/v1", tags=["inventory"])


# `{sku:path}`: a SKU may contain "/", which would otherwise end the path segment.
@router.put("/inventory/{node_id}/{sku:path}", response_model=InventoryPosition, responses=NOT_FOUND)
def put_on_hand(
    node_id: Annotated[NodeId, Path()], sku: Annotated[Sku, Path()], count: InventoryCount, store: StoreDep
) -> InventoryPosition:
    """Set the absolute on-hand count of `sku` at `node_id` (a WMS count, not a delta); answers
    the position with its ATP. Unknown node: 404."""
    position = store.set_on_hand(node_id, sku, count.on_hand, source=count.source, reason=count.reason)
    if count.safety_stock is not None:
        position = store.set_safety_stock(node_id, sku, count.safety_stock, source=count.source)
    return position


@router.post(
    "/inventory:batch",
    response_model=InventoryBatchResult,
    responses={409: {"description": "a count older than its position's last movement"}},
)
def post_inventory_batch(batch: InventoryBatch, store: StoreDep) -> InventoryBatchResult:
    """Counts (`on_hand`) and deltas (`delta`, receipt or adjustment) for many positions, applied in one
    transaction or not at all. A bad item: 422 naming `items[i].field`; a count whose `as_of` is older
    than the position's last on-hand movement: 409 naming the item, with `last_movement_at`."""
    try:
        return InventoryBatchResult(applied=store.apply_inventory_feed(batch.items))
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
