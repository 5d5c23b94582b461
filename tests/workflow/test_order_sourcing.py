"""Orders planned with the cost model and held by the order rules, on a real Temporal server."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from temporalio.client import WorkflowUpdateFailedError

from models.names import RELEASE_HOLD_UPDATE, order_workflow_id
from models.order import CancelOrder, OrderStatus, OrderView, PlaceOrder, ReleaseHold
from omniroute.client import RequestRejectedError
from omniroute.files.cost_files import demo_catalog_path, demo_cost_model_path, load_catalog, load_cost_model
from omniroute.files.rule_files import parse_rules
from tests.fixtures.network import add_node
from tests.fixtures.orders import an_order
from tests.fixtures.temporal import RunningWorker
from tests.fixtures.workflows import all_released, wait_for

HOLD_FLAGGED = """
version: 1
rules:
  - id: hold-fraud
    description: fraud screen says high
    when: {attribute_equals: {fraud_risk: high}}
    then: [{hold: fraud screen}]
  - id: web-one-box
    description: web ships complete
    when: {channel_in: [web]}
    then: [{ship_complete: true}]
"""


def configure(w: RunningWorker, rules: str | None = None) -> None:
    w.store.set_cost_model(load_cost_model(demo_cost_model_path()))
    w.store.upsert_skus(list(load_catalog(demo_catalog_path()).skus.values()))
    if rules is not None:
        w.store.set_rules(parse_rules(rules))


def is_status(status: OrderStatus) -> Callable[[OrderView], bool]:
    return lambda view: view.status is status


async def a_flagged_order_on_hold(w: RunningWorker) -> tuple[PlaceOrder, OrderView]:
    """An order the channel's fraud screen flagged, placed under the hold rules and waiting in `held`."""
    configure(w, HOLD_FLAGGED)
    add_node(w.store, "dc-il", "60106")
    w.store.set_on_hand("dc-il", "TEE-CREW-BLK", 5, source="test")
    order = an_order(("TEE-CREW-BLK", 1)).model_copy(update={"attributes": {"fraud_risk": "high"}})
    await w.sdk.place_order(order)
    return order, await wait_for(w, order.order_id, is_status(OrderStatus.HELD))


async def test_with_a_cost_model_the_order_carries_its_priced_decision(omniroute_worker: RunningWorker) -> None:
    w = omniroute_worker
    configure(w)
    add_node(w.store, "dc-nj", "08817")
    add_node(w.store, "dc-il", "60106")
    for node in ("dc-nj", "dc-il"):
        w.store.set_on_hand(node, "TEE-CREW-BLK", 10, source="test")
    order = an_order(("TEE-CREW-BLK", 2))

    await w.sdk.place_order(order)
    view = await wait_for(w, order.order_id, all_released)

    decision = view.decision
    assert decision is not None and decision.strategy == "optimal"
    [cost] = decision.shipments
    assert cost.node_id == "dc-il" == view.shipments[0].node_id, "Chicago is served from the nearer, cheaper DC"
    assert cost.total_cents == sum(part.cents for part in cost.parts) > 0
    assert decision.total_cents == cost.total_cents
    assert decision.runners_up and all(r.nodes != ["dc-il"] for r in decision.runners_up)
    shipment = view.shipments[0]
    assert (shipment.carrier, shipment.service) == ("UPS", "Ground"), "the label is bought for the service priced"
    assert cost.service == "ups-ground"
    record = w.store.get_order(order.order_id)
    assert record is not None and record.decision == decision, "the read model keeps what the workflow shows"


async def test_a_held_order_waits_for_release_then_is_planned(omniroute_worker: RunningWorker) -> None:
    w = omniroute_worker
    order, held = await a_flagged_order_on_hold(w)
    assert held.holds == ["fraud screen"] and held.shipments == []
    assert any("hold-fraud" in fired for fired in held.rules_fired)
    await asyncio.sleep(0.5)
    assert w.store.reservations(order.order_id) == [], "nothing is reserved while the order is held"

    released = await w.sdk.release_hold(order.order_id, ReleaseHold(released_by="ops@example.com"))

    assert released.status is OrderStatus.FULFILLING and len(released.shipments) == 1
    assert any("hold released by ops@example.com" in event for event in released.events)
    with pytest.raises(RequestRejectedError, match="not on hold"):
        await w.sdk.release_hold(order.order_id, ReleaseHold(released_by="ops@example.com"))


async def test_a_held_order_can_be_cancelled_while_it_waits(omniroute_worker: RunningWorker) -> None:
    w = omniroute_worker
    order, _ = await a_flagged_order_on_hold(w)

    result = await w.sdk.cancel_order(order.order_id, CancelOrder(reason="fraud confirmed"))

    assert result.status is OrderStatus.CANCELLED and result.cancelled_line_nos == [1]
    handle = w.temporal.get_workflow_handle(order_workflow_id(order.order_id), result_type=OrderView)
    final = await handle.result()
    assert final.status is OrderStatus.CANCELLED and final.shipments == []
    assert w.store.reservations(order.order_id) == []
    assert w.store.availability("TEE-CREW-BLK").total_atp == 5


async def test_an_order_not_on_hold_refuses_a_release(omniroute_worker: RunningWorker) -> None:
    w = omniroute_worker
    configure(w, HOLD_FLAGGED)
    add_node(w.store, "dc-il", "60106")
    w.store.set_on_hand("dc-il", "TEE-CREW-BLK", 5, source="test")
    order = an_order(("TEE-CREW-BLK", 1))
    await w.sdk.place_order(order)
    await wait_for(w, order.order_id, all_released)

    handle = w.temporal.get_workflow_handle(order_workflow_id(order.order_id))
    with pytest.raises(WorkflowUpdateFailedError):
        await handle.execute_update(RELEASE_HOLD_UPDATE, ReleaseHold(released_by="ops"))
