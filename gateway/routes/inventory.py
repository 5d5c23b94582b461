"""Stock counts from warehouses and stores, and available-to-promise across the network."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from gateway.deps import StoreDep
from gateway.errors import NOT_FOUND
from models.api import InventoryCount
from models.inventory import Availability, InventoryPosition, Sku
from models.network import NodeId

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


@router.get("/availability", response_model=Availability)
def availability(sku: Annotated[Sku, Query(description="the SKU to look up")], store: StoreDep) -> Availability:
    """ATP of `sku` per node and network-wide."""
    return store.availability(sku)
