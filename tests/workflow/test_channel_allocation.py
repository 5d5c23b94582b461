"""An order reserves no more than its channel's allocation rule allows: what is past it follows the order's
backorder policy (backordered, or cancelled) like any other shortfall, on a real Temporal server."""

from __future__ import annotations

import pytest

from models.allocation import ChannelAllocation
from models.network import NodeKind
from models.order import LineStatus, OrderStatus
from tests.fixtures.network import add_node
from tests.fixtures.orders import an_order, with_backorders
from tests.fixtures.temporal import RunningWorker
from tests.fixtures.workflows import all_released, wait_for

MARKETPLACE = "marketplace"


@pytest.mark.parametrize("worker_store", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
                         indirect=True)
async def test_a_marketplace_order_past_its_share_is_backordered_not_over_reserved(
        omniroute_worker: RunningWorker) -> None:
    w = omniroute_worker
    with_backorders(w)
    w.store.set_on_hand("dc-il", "SKU-MP", 20, source="test")
    w.store.set_channel_allocation(MARKETPLACE, ChannelAllocation(percent=25))
    order = an_order(("SKU-MP", 8), channel=MARKETPLACE)

    await w.sdk.place_order(order)
    view = await wait_for(w, order.order_id, all_released)

    assert view.status is OrderStatus.FULFILLING
    assert [(s.node_id, s.lines[0].quantity) for s in view.shipments] == [("dc-il", 5)]
    assert (view.lines[0].status, view.lines[0].quantity_backordered) == (LineStatus.BACKORDERED, 3)
    assert [r.quantity for r in w.store.reservations(order.order_id)] == [5]
    assert w.store.orders_with_backorders()[0][2] == ["SKU-MP"], "the backorder sweep will look for it"

    web = an_order(("SKU-MP", 15))
    await w.sdk.place_order(web)
    web_view = await wait_for(w, web.order_id, all_released)
    assert [(s.node_id, s.lines[0].quantity) for s in web_view.shipments] == [("dc-il", 15)]


async def test_under_the_cancel_policy_what_the_channel_may_not_reserve_is_cancelled(
        omniroute_worker: RunningWorker) -> None:
    w = omniroute_worker
    add_node(w.store, "dc-il", "60106")
    add_node(w.store, "store-chi", "60601", kind=NodeKind.STORE)
    w.store.set_on_hand("dc-il", "SKU-MP", 20, source="test")
    w.store.set_on_hand("store-chi", "SKU-MP", 20, source="test")
    w.store.set_channel_allocation(MARKETPLACE, ChannelAllocation(buffer=16, hidden_node_kinds=[NodeKind.STORE]))
    order = an_order(("SKU-MP", 6), channel=MARKETPLACE)

    await w.sdk.place_order(order)
    view = await wait_for(w, order.order_id, all_released)

    assert [(s.node_id, s.lines[0].quantity) for s in view.shipments] == [("dc-il", 4)], "never the hidden store"
    assert view.lines[0].quantity_cancelled == 2
    assert [r.node_id for r in w.store.reservations(order.order_id)] == ["dc-il"]

    hidden_only = an_order(("SKU-MP", 1), channel=MARKETPLACE)
    await w.sdk.place_order(hidden_only)
    cancelled = await wait_for(w, hidden_only.order_id, lambda v: v.status is OrderStatus.CANCELLED)
    assert cancelled.shipments == [] and w.store.reservations(hidden_only.order_id) == []
