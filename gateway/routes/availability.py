"""Available-to-promise per node, network-wide and per channel, one SKU or a batch; who can deliver a SKU
to a postal code by a date; the safety-stock defaults that shape ATP.

The promise inputs shared with `gateway.routes.sourcing` live here too: the clock (a dependency, so
that a test can fix it), the stored cost model and catalogue (409 without a cost model) and the
destination (422 for an unknown postal code).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, status

from gateway.audit import record
from gateway.auth import AdminKey, ChannelOrOperatorKey, OperatorKey, scoped_channel
from gateway.deps import StoreDep
from gateway.errors import NOT_FOUND, Problem, field_error
from models.allocation import (
    AvailabilityBatch,
    AvailabilityBatchRequest,
    ChannelAvailability,
    SafetyStockDefaults,
)
from models.api import DeliveryAvailability, DeliveryCheck, NodeDeliveryAvailability
from models.audit import AuditKind
from models.catalog import Catalog
from models.costs import CostModel, ServiceLevel
from models.inventory import InventoryPosition, Sku
from models.network import Node
from models.order import ChannelName
from sourcing.allocation import channel_availability
from sourcing.geo import PostalPlace, lookup_postal_code
from sourcing.promise import nodes_delivering_by
from store import Store

router = APIRouter(prefix="/v1", tags=["inventory"])


def availability_for(store: Store, skus: Sequence[str], channel: str | None) -> list[ChannelAvailability]:
    """One answer per distinct SKU, in the order asked: one query for every position, one for the rule,
    and with a rule one for the channel's open reservations (they count against its share, so that the
    answer is what the channel may still reserve)."""
    rule = None if channel is None else store.channel_allocation(channel)
    positions, kinds = store.stock(skus)
    by_sku: dict[str, list[InventoryPosition]] = {}
    for position in positions:
        by_sku.setdefault(position.sku, []).append(position)
    own: dict[str, dict[str, int]] = {}
    if channel is not None and rule is not None:
        for (node_id, sku), units in store.channel_reserved(channel, list(dict.fromkeys(skus))).items():
            own.setdefault(sku, {})[node_id] = units
    return [channel_availability(sku, by_sku.get(sku, []), kinds, rule, channel, own.get(sku))
            for sku in dict.fromkeys(skus)]


def current_time() -> datetime:
    """The time promises are computed for: now."""
    return datetime.now(UTC)


NowDep = Annotated[datetime, Depends(current_time)]


@dataclass(frozen=True)
class PricedNetwork:
    """What a promise needs from the app DB besides ATP."""

    cost_model: CostModel
    cost_model_version: int
    catalog: Catalog
    nodes: list[Node]


def priced_network(store: Store, skus: Sequence[str]) -> PricedNetwork:
    """The stored cost model, the catalogue entries of `skus` and the active nodes; 409 without a cost model."""
    stored = store.cost_model()
    if stored is None:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            "no cost model is configured, so no delivery date can be promised: "
            "PUT /v1/sourcing/cost-model or run `omniroute sourcing load --cost-model FILE`",
        )
    nodes = [node for node in store.list_nodes() if node.active]
    return PricedNetwork(stored[0], stored[1], store.catalog(list(dict.fromkeys(skus))), nodes)


def destination(postal_code: str, loc: Sequence[str | int] = ("query", "postal_code")) -> PostalPlace:
    """The US postal code's place, or a 422 naming `loc`."""
    place = lookup_postal_code(postal_code)
    if place is None:
        raise field_error(loc, f"unknown US postal code {postal_code!r}", kind="postal_code", value=postal_code)
    return place


def atp_by_node(answers: Sequence[ChannelAvailability]) -> dict[str, dict[str, int]]:
    """node_id -> sku -> ATP, from availability answers (the channel's ATP where they are a channel's)."""
    atp: dict[str, dict[str, int]] = {}
    for answer in answers:
        for node in answer.nodes:
            atp.setdefault(node.node_id, {})[answer.sku] = node.atp
    return atp


@router.get(
    "/availability",
    response_model=DeliveryAvailability,
    response_model_exclude_unset=True,
    responses={409: {"model": Problem, "description": "delivery asked but no cost model configured"}},
)
def availability(
    sku: Annotated[Sku, Query(description="the SKU to look up")],
    store: StoreDep,
    now: NowDep,
    caller: ChannelOrOperatorKey,
    channel: Annotated[ChannelName | None, Query(description="answer as this channel sees it")] = None,
    postal_code: Annotated[
        str | None, Query(max_length=10, description="with deliver_by: also list who delivers here in time")
    ] = None,
    deliver_by: Annotated[date | None, Query(description="with postal_code: the latest delivery date")] = None,
    level: Annotated[ServiceLevel | None, Query(description="only services of this level or faster")] = None,
    quantity: Annotated[int | None, Query(ge=1, le=10_000, description="units to deliver; 1 if omitted")] = None,
) -> ChannelAvailability:
    """ATP of `sku` per node and in total, network-wide or, given `channel`, after its allocation rule
    (nodes hidden from the channel left out; `explanation` says what the rule did).

    Given `postal_code` and `deliver_by` (and optionally `level`, `quantity`), `delivery` also lists
    the nodes that can ship the quantity alone and have it arrive there by that date, each with its
    cheapest such service, its delivery date and its ATP. Without them the answer has no `delivery`.
    One of them without the other: 422 naming the missing one; an unknown US postal code: 422 naming
    `postal_code`; no cost model configured: 409. A channel key always sees its own channel's view.
    """
    channel = scoped_channel(caller, channel, ("query", "channel"))
    answer = availability_for(store, [sku], channel)[0]
    if postal_code is None and deliver_by is None and level is None and quantity is None:
        return answer
    if postal_code is None:
        raise field_error(("query", "postal_code"), "postal_code is required with deliver_by, level or quantity")
    if deliver_by is None:
        raise field_error(("query", "deliver_by"), "deliver_by is required with postal_code, level or quantity")
    place = destination(postal_code)
    network = priced_network(store, [sku])
    units = quantity or 1
    atp = atp_by_node([answer])
    found = nodes_delivering_by(
        sku, units, place.point, deliver_by, network.nodes, atp, network.cost_model, network.catalog, now, level
    )
    nodes = [
        NodeDeliveryAvailability(node_id=d.node_id, delivery_date=d.delivery_date, service=d.service,
                                 atp=atp[d.node_id][sku])
        for d in found
    ]
    check = DeliveryCheck(
        postal_code=place.postal_code, deliver_by=deliver_by, level=level, quantity=units, quoted_at=now,
        cost_model_version=network.cost_model_version, total_atp=sum(node.atp for node in nodes), nodes=nodes,
    )
    return DeliveryAvailability.model_validate({**answer.model_dump(), "delivery": check})


@router.post("/availability:batch", response_model=AvailabilityBatch)
def availability_batch(
    request: AvailabilityBatchRequest, store: StoreDep, caller: ChannelOrOperatorKey
) -> AvailabilityBatch:
    """ATP of up to 1,000 SKUs (more: 422 on `skus`), per node and in total, optionally for a channel
    (a channel key: always its own)."""
    channel = scoped_channel(caller, request.channel, ("body", "channel"))
    return AvailabilityBatch(channel=channel, items=availability_for(store, request.skus, channel))


@router.get("/safety-stock/defaults", response_model=SafetyStockDefaults)
def get_safety_stock_defaults(store: StoreDep, _caller: OperatorKey) -> SafetyStockDefaults:
    """Safety stock for positions without their own: `by_node` first, then `by_kind`, else 0."""
    return store.safety_stock_defaults()


@router.put("/safety-stock/defaults", response_model=SafetyStockDefaults, responses=NOT_FOUND)
def put_safety_stock_defaults(
    defaults: SafetyStockDefaults, store: StoreDep, caller: AdminKey
) -> SafetyStockDefaults:
    """Replace the defaults as a whole; ATP and reservations use them at once. Unknown node in `by_node`: 404."""
    stored = store.set_safety_stock_defaults(defaults)
    record(store, caller, AuditKind.SAFETY_STOCK_PUT, "defaults", by_kind=len(stored.by_kind),
           by_node=len(stored.by_node))
    return stored
