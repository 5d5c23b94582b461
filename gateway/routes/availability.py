"""Available-to-promise per node, network-wide and per channel, one SKU or a batch; the safety-stock
defaults that shape it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Query

from gateway.deps import StoreDep
from gateway.errors import NOT_FOUND
from models.allocation import (
    AvailabilityBatch,
    AvailabilityBatchRequest,
    ChannelAvailability,
    SafetyStockDefaults,
)
from models.inventory import InventoryPosition, Sku
from models.order import ChannelName
from sourcing.allocation import channel_availability
from store import Store

router = APIRouter(prefix="/v1", tags=["inventory"])


def availability_for(store: Store, skus: Sequence[str], channel: str | None) -> list[ChannelAvailability]:
    """One answer per distinct SKU, in the order asked: one query for every position, one for the rule."""
    rule = None if channel is None else store.channel_allocation(channel)
    positions, kinds = store.stock(skus)
    by_sku: dict[str, list[InventoryPosition]] = {}
    for position in positions:
        by_sku.setdefault(position.sku, []).append(position)
    return [channel_availability(sku, by_sku.get(sku, []), kinds, rule, channel) for sku in dict.fromkeys(skus)]


@router.get("/availability", response_model=ChannelAvailability)
def availability(
    sku: Annotated[Sku, Query(description="the SKU to look up")],
    store: StoreDep,
    channel: Annotated[ChannelName | None, Query(description="answer as this channel sees it")] = None,
) -> ChannelAvailability:
    """ATP of `sku` per node and in total, network-wide or, given `channel`, after its allocation rule
    (nodes hidden from the channel left out; `explanation` says what the rule did)."""
    return availability_for(store, [sku], channel)[0]


@router.post("/availability:batch", response_model=AvailabilityBatch)
def availability_batch(request: AvailabilityBatchRequest, store: StoreDep) -> AvailabilityBatch:
    """ATP of up to 1,000 SKUs (more: 422 on `skus`), per node and in total, optionally for a channel."""
    return AvailabilityBatch(channel=request.channel, items=availability_for(store, request.skus, request.channel))


@router.get("/safety-stock/defaults", response_model=SafetyStockDefaults)
def get_safety_stock_defaults(store: StoreDep) -> SafetyStockDefaults:
    """Safety stock for positions without their own: `by_node` first, then `by_kind`, else 0."""
    return store.safety_stock_defaults()


@router.put("/safety-stock/defaults", response_model=SafetyStockDefaults, responses=NOT_FOUND)
def put_safety_stock_defaults(defaults: SafetyStockDefaults, store: StoreDep) -> SafetyStockDefaults:
    """Replace the defaults as a whole; ATP and reservations use them at once. Unknown node in `by_node`: 404."""
    return store.set_safety_stock_defaults(defaults)
