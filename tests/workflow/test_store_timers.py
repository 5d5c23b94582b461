"""A store's SLA timers on the time-skipping test server: an unaccepted shipment goes back and a DC
ships it; the pick SLA counts only the store's opening hours; a pickup nobody collects is cancelled,
its stock released and the customer told."""

from __future__ import annotations

from datetime import UTC, time, timedelta

from temporalio.testing import WorkflowEnvironment

from models.network import BusinessHours, NodeSla, OpeningHours, Weekday
from models.order import OrderStatus, PlaceOrder
from models.shipment import ShipmentEvent, ShipmentEventType, ShipmentState
from sourcing.business_hours import add_working_minutes
from tests.fixtures.eventually import eventually
from tests.fixtures.network import add_node
from tests.fixtures.orders import an_order
from tests.fixtures.stores import a_pickup_order, add_store
from tests.fixtures.temporal import RunningWorker
from tests.fixtures.workflows import all_released, wait_for

WEEKDAYS = (Weekday.MON, Weekday.TUE, Weekday.WED, Weekday.THU, Weekday.FRI, Weekday.SAT, Weekday.SUN)


def _event(shipment_id: str, kind: ShipmentEventType) -> ShipmentEvent:
    return ShipmentEvent(shipment_id=shipment_id, type=kind, event_id=f"{shipment_id}-{kind.value}")


async def test_a_shipment_the_store_does_not_accept_in_time_is_shipped_by_a_dc(
        time_skipping_worker: RunningWorker, time_skipping_env: WorkflowEnvironment) -> None:
    w = time_skipping_worker
    add_store(w.store, "store-chi", "60614", sla=NodeSla(accept_minutes=30))
    add_node(w.store, "dc-nj", "08817")
    w.store.set_on_hand("store-chi", "SKU-AT", 2, source="test")
    w.store.set_on_hand("dc-nj", "SKU-AT", 2, source="test")
    order = an_order(("SKU-AT", 1))
    await w.sdk.place_order(order)
    [first] = (await wait_for(w, order.order_id, all_released)).shipments
    assert first.node_id == "store-chi"

    await time_skipping_env.sleep(timedelta(minutes=25))
    view = await w.sdk.get_order(order.order_id)
    assert [s.node_id for s in view.shipments] == ["store-chi"], "not handed back before the SLA runs out"

    await time_skipping_env.sleep(timedelta(minutes=10))
    view = await wait_for(w, order.order_id, lambda v: any(
        s.node_id == "dc-nj" and s.state is ShipmentState.RELEASED for s in v.shipments))
    assert {s.node_id: s.state for s in view.shipments}["store-chi"] is ShipmentState.CANCELLED
    assert any("did not accept" in event for event in view.events)


async def test_the_pick_sla_counts_only_the_stores_opening_hours(
        time_skipping_worker: RunningWorker, time_skipping_env: WorkflowEnvironment) -> None:
    """The store opens only tomorrow (UTC), 09:00-17:00: accepted today, its hour to pick runs from
    tomorrow 09:00 to 10:00, however long the night."""
    w = time_skipping_worker
    now = (await time_skipping_env.get_current_time()).astimezone(UTC)
    tomorrow = WEEKDAYS[(now.weekday() + 1) % 7]
    hours = BusinessHours(timezone="UTC", days={tomorrow: OpeningHours(opens=time(9), closes=time(17))})
    add_store(w.store, "store-chi", "60614", sla=NodeSla(accept_minutes=600, pick_minutes=60, business_hours=hours))
    add_node(w.store, "dc-nj", "08817")
    w.store.set_on_hand("store-chi", "SKU-PT", 2, source="test")
    w.store.set_on_hand("dc-nj", "SKU-PT", 2, source="test")
    order = an_order(("SKU-PT", 1))
    await w.sdk.place_order(order)
    [first] = (await wait_for(w, order.order_id, all_released)).shipments
    await w.sdk.send_shipment_event(_event(first.shipment_id, ShipmentEventType.ACCEPTED))
    await wait_for(w, order.order_id, lambda v: v.shipments[0].tracking_number is not None)
    accepted_at = await time_skipping_env.get_current_time()
    deadline = add_working_minutes(hours, accepted_at, 60)
    assert deadline - accepted_at > timedelta(hours=1), "the store is closed until tomorrow"

    await time_skipping_env.sleep(deadline - accepted_at - timedelta(minutes=5))
    view = await w.sdk.get_order(order.order_id)
    assert [(s.node_id, s.state) for s in view.shipments] == [("store-chi", ShipmentState.ACCEPTED)]

    await time_skipping_env.sleep(timedelta(minutes=10))
    view = await wait_for(w, order.order_id, lambda v: len(v.shipments) == 2)
    assert {s.node_id: s.state for s in view.shipments} == {"store-chi": ShipmentState.CANCELLED,
                                                            "dc-nj": ShipmentState.RELEASED}
    assert any("had not picked" in event for event in view.events)
    [label] = w.sandbox.labels(reference=first.shipment_id)
    assert label["refunded"] is True, "the store's label is voided"


async def test_a_pickup_nobody_collects_is_cancelled_restocked_and_the_customer_told(
        time_skipping_worker: RunningWorker, time_skipping_env: WorkflowEnvironment) -> None:
    w = time_skipping_worker
    order = await _ready_for_pickup(w, "store-chi", NodeSla(pickup_days=2), sku="SKU-PW", on_hand=3, quantity=2)

    await time_skipping_env.sleep(timedelta(days=1))
    assert (await w.sdk.get_order(order.order_id)).status is not OrderStatus.CANCELLED

    await time_skipping_env.sleep(timedelta(days=1, hours=1))
    view = await wait_for(w, order.order_id, lambda v: v.status is OrderStatus.CANCELLED)
    assert view.shipments[0].state is ShipmentState.CANCELLED
    node = next(n for n in w.store.availability("SKU-PW").nodes if n.node_id == "store-chi")
    assert (node.on_hand, node.reserved) == (3, 0), "back on the shelf: released, nothing written off"
    subjects = await eventually(lambda: [m["subject"] for m in w.sandbox.messages(to=str(order.customer.email))
                                         if "not collected" in m["subject"]])
    assert len(subjects) == 1


async def test_a_pickup_not_collected_within_pickup_minutes_is_cancelled_and_restocked(
        time_skipping_worker: RunningWorker, time_skipping_env: WorkflowEnvironment) -> None:
    w = time_skipping_worker
    order = await _ready_for_pickup(w, "store-min", NodeSla(pickup_minutes=30), sku="SKU-PM", on_hand=2, quantity=1)

    await time_skipping_env.sleep(timedelta(minutes=20))
    assert (await w.sdk.get_order(order.order_id)).status is not OrderStatus.CANCELLED

    await time_skipping_env.sleep(timedelta(minutes=15))
    view = await wait_for(w, order.order_id, lambda v: v.status is OrderStatus.CANCELLED)
    assert view.shipments[0].state is ShipmentState.CANCELLED
    node = next(n for n in w.store.availability("SKU-PM").nodes if n.node_id == "store-min")
    assert (node.on_hand, node.reserved) == (2, 0), "back on the shelf: released, nothing written off"
    reasons = await eventually(lambda: [m["text"] for m in w.sandbox.messages(to=str(order.customer.email))
                                        if "not collected" in m["subject"]])
    assert len(reasons) == 1 and "not collected within 30 minutes" in reasons[0]


async def _ready_for_pickup(w: RunningWorker, store_id: str, sla: NodeSla, *, sku: str, on_hand: int,
                            quantity: int) -> PlaceOrder:
    """A pickup order at a new store with `sla`, accepted, picked and ready on the shelf."""
    add_store(w.store, store_id, "60614", sla=sla)
    w.store.set_on_hand(store_id, sku, on_hand, source="test")
    order = a_pickup_order(store_id, (sku, quantity))
    await w.sdk.place_order(order)
    [shipment] = (await wait_for(w, order.order_id, all_released)).shipments
    for step in (ShipmentEventType.ACCEPTED, ShipmentEventType.PICKED, ShipmentEventType.READY_FOR_PICKUP):
        await w.sdk.send_shipment_event(_event(shipment.shipment_id, step))
    await wait_for(w, order.order_id, lambda v: v.shipments[0].state is ShipmentState.READY_FOR_PICKUP)
    return order
