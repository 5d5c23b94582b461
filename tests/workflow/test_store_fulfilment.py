"""A store's fulfilment on a real Temporal dev server, a real SQLite ledger and the sandboxes: a store
that rejects hands the shipment back and a DC ships it; a pickup is collected only with the customer's
code; a curbside customer's arrival is shown to the store before the collection."""

from __future__ import annotations

import pytest

from models.order import OrderStatus, OrderView
from models.shipment import ShipmentEvent, ShipmentEventType, ShipmentState
from omniroute.client import EventRejectedError
from tests.fixtures.network import add_node
from tests.fixtures.orders import an_order
from tests.fixtures.stores import a_pickup_order, add_store, pickup_code
from tests.fixtures.temporal import RunningWorker
from tests.fixtures.workflows import all_released, wait_for, warehouse_ships


def _event(shipment_id: str, kind: ShipmentEventType, **data: object) -> ShipmentEvent:
    return ShipmentEvent.model_validate({"shipment_id": shipment_id, "type": kind,
                                         "event_id": f"{shipment_id}-{kind.value}-{len(data)}", **data})


def _position(w: RunningWorker, node_id: str, sku: str) -> tuple[int, int]:
    node = next(n for n in w.store.availability(sku).nodes if n.node_id == node_id)
    return node.on_hand, node.reserved


async def test_a_store_that_rejects_hands_the_shipment_back_and_a_dc_ships_it(
        omniroute_worker: RunningWorker) -> None:
    w = omniroute_worker
    add_store(w.store, "store-chi", "60614")
    add_node(w.store, "dc-nj", "08817")
    w.store.set_on_hand("store-chi", "SKU-SR", 3, source="test")
    w.store.set_on_hand("dc-nj", "SKU-SR", 3, source="test")
    order = an_order(("SKU-SR", 2))
    await w.sdk.place_order(order)
    [first] = (await wait_for(w, order.order_id, all_released)).shipments
    assert first.node_id == "store-chi" and not first.pickup

    await w.sdk.send_shipment_event(_event(first.shipment_id, ShipmentEventType.REJECTED, reason="no staff"))

    view = await wait_for(w, order.order_id, lambda v: len(v.shipments) == 2 and any(
        s.node_id == "dc-nj" and s.state is ShipmentState.RELEASED for s in v.shipments))
    assert {s.node_id: s.state for s in view.shipments}["store-chi"] is ShipmentState.CANCELLED
    assert _position(w, "store-chi", "SKU-SR") == (3, 0), "the store's reservation is released"
    assert w.sandbox.labels(reference=first.shipment_id) == [], "no label is bought before the store accepts"
    [second] = [s for s in view.shipments if s.node_id == "dc-nj"]
    await warehouse_ships(w, second.shipment_id)
    final = await w.temporal.get_workflow_handle(view.workflow_id, result_type=OrderView).result()
    assert final.status is OrderStatus.COMPLETED


async def test_a_ship_from_store_shipment_is_labelled_once_accepted_and_ships(
        omniroute_worker: RunningWorker) -> None:
    w = omniroute_worker
    add_store(w.store, "store-chi", "60614")
    w.store.set_on_hand("store-chi", "SKU-SS", 2, source="test")
    order = an_order(("SKU-SS", 1))
    await w.sdk.place_order(order)
    [shipment] = (await wait_for(w, order.order_id, all_released)).shipments
    sid = shipment.shipment_id
    with pytest.raises(EventRejectedError, match="ready_for_pickup"):
        await w.sdk.send_shipment_event(_event(sid, ShipmentEventType.READY_FOR_PICKUP))

    await w.sdk.send_shipment_event(_event(sid, ShipmentEventType.ACCEPTED))
    view = await wait_for(w, order.order_id, lambda v: v.shipments[0].tracking_number is not None)
    assert view.shipments[0].state is ShipmentState.ACCEPTED and view.shipments[0].label_url
    await warehouse_ships(w, sid)
    final = await w.temporal.get_workflow_handle(view.workflow_id, result_type=OrderView).result()
    assert final.status is OrderStatus.COMPLETED
    assert _position(w, "store-chi", "SKU-SS") == (1, 0)


async def test_a_pickup_is_collected_only_with_the_customers_code(omniroute_worker: RunningWorker) -> None:
    w = omniroute_worker
    add_store(w.store, "store-chi", "60614")
    add_store(w.store, "store-evanston", "60201")
    w.store.set_on_hand("store-evanston", "SKU-BP", 5, source="test")
    w.store.set_on_hand("store-chi", "SKU-BP", 1, source="test")
    order = a_pickup_order("store-chi", ("SKU-BP", 1))
    await w.sdk.place_order(order)
    [shipment] = (await wait_for(w, order.order_id, all_released)).shipments
    sid = shipment.shipment_id
    assert shipment.node_id == "store-chi" and shipment.pickup, "planned at the chosen store, not the one with more"

    for step in (ShipmentEventType.ACCEPTED, ShipmentEventType.PICKED, ShipmentEventType.READY_FOR_PICKUP):
        await w.sdk.send_shipment_event(_event(sid, step))
    code = await pickup_code(w, order)
    wrong = "000000" if code != "000000" else "111111"
    with pytest.raises(EventRejectedError, match="pickup_code"):
        await w.sdk.send_shipment_event(_event(sid, ShipmentEventType.COLLECTED, pickup_code=wrong))
    view = await w.sdk.get_order(order.order_id)
    assert view.shipments[0].state is ShipmentState.READY_FOR_PICKUP, "a wrong code moves nothing"
    assert code not in view.model_dump_json(), "the order's view never shows the code"

    await w.sdk.send_shipment_event(_event(sid, ShipmentEventType.COLLECTED, pickup_code=code))
    final = await w.temporal.get_workflow_handle(view.workflow_id, result_type=OrderView).result()
    assert final.status is OrderStatus.COMPLETED
    assert final.shipments[0].state is ShipmentState.COLLECTED
    assert _position(w, "store-chi", "SKU-BP") == (0, 0), "the collected unit left the store's books"


async def test_a_curbside_arrival_is_shown_to_the_store_then_collected(omniroute_worker: RunningWorker) -> None:
    w = omniroute_worker
    add_store(w.store, "store-chi", "60614")
    w.store.set_on_hand("store-chi", "SKU-CB", 2, source="test")
    order = a_pickup_order("store-chi", ("SKU-CB", 2), curbside=True)
    await w.sdk.place_order(order)
    [shipment] = (await wait_for(w, order.order_id, all_released)).shipments
    sid = shipment.shipment_id
    with pytest.raises(EventRejectedError, match="cannot apply arrived"):
        await w.sdk.send_shipment_event(_event(sid, ShipmentEventType.ARRIVED, spot="7"))
    for step in (ShipmentEventType.ACCEPTED, ShipmentEventType.READY_FOR_PICKUP):
        await w.sdk.send_shipment_event(_event(sid, step))
    code = await pickup_code(w, order)

    await w.sdk.send_shipment_event(_event(sid, ShipmentEventType.ARRIVED, spot="7"))
    view = await wait_for(w, order.order_id, lambda v: v.shipments[0].curbside_spot == "7")
    assert any("curbside spot 7" in event for event in view.events)
    await w.sdk.send_shipment_event(_event(sid, ShipmentEventType.COLLECTED, pickup_code=code))
    final = await w.temporal.get_workflow_handle(view.workflow_id, result_type=OrderView).result()
    assert final.status is OrderStatus.COMPLETED and final.shipments[0].state is ShipmentState.COLLECTED
