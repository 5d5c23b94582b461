"""What every node kind's fulfilment shares, tried on a DC on a real Temporal dev server and a real
SQLite ledger: a short pick writes the shortfall off and the order plans it elsewhere; a reject hands
the whole shipment back; a node's `cancelled` answers only a cancel it was asked; a shipped event that
arrives first beats a cancel, which then fails naming the shipment and tells the customer; a carrier's
exception is recorded and told."""

from __future__ import annotations

import asyncio

import pytest

from models.order import CancelOrder, OrderStatus, OrderView
from models.shipment import PickedLine, ShipmentEvent, ShipmentEventType, ShipmentState, TrackingException
from omniroute.client import CancelRejectedError, EventRejectedError
from tests.fixtures.eventually import eventually
from tests.fixtures.network import add_node, add_webhook_node
from tests.fixtures.orders import an_order
from tests.fixtures.temporal import RunningWorker
from tests.fixtures.workflows import all_released, wait_for, warehouse_ships


def _event(shipment_id: str, kind: ShipmentEventType, **data: object) -> ShipmentEvent:
    return ShipmentEvent.model_validate({"shipment_id": shipment_id, "type": kind,
                                         "event_id": f"{shipment_id}-{kind.value}", **data})


def _position(w: RunningWorker, node_id: str, sku: str) -> tuple[int, int]:
    node = next(n for n in w.store.availability(sku).nodes if n.node_id == node_id)
    return node.on_hand, node.reserved


async def test_a_short_pick_writes_the_shortfall_off_and_the_order_ships_it_from_another_node(
        omniroute_worker: RunningWorker) -> None:
    w = omniroute_worker
    add_node(w.store, "dc-il", "60106")
    add_node(w.store, "dc-nj", "08817")
    w.store.set_on_hand("dc-il", "SKU-SP", 5, source="test")
    w.store.set_on_hand("dc-nj", "SKU-SP", 5, source="test")
    order = an_order(("SKU-SP", 3))
    await w.sdk.place_order(order)
    [first] = (await wait_for(w, order.order_id, all_released)).shipments
    assert first.node_id == "dc-il"

    await w.sdk.send_shipment_event(_event(first.shipment_id, ShipmentEventType.SHORT_PICKED,
                                           lines=[PickedLine(sku="SKU-SP", quantity_picked=1)]))

    view = await wait_for(w, order.order_id, lambda v: len(v.shipments) == 2 and all(
        s.state in (ShipmentState.PICKED, ShipmentState.RELEASED) for s in v.shipments))
    by_id = {s.shipment_id: s for s in view.shipments}
    assert [(line.sku, line.quantity) for line in by_id[first.shipment_id].lines] == [("SKU-SP", 1)]
    [second] = [s for s in view.shipments if s.shipment_id != first.shipment_id]
    assert second.node_id == "dc-nj" and [(line.sku, line.quantity) for line in second.lines] == [("SKU-SP", 2)]
    assert _position(w, "dc-il", "SKU-SP") == (3, 1), "the 2 units nobody found are written off, 1 stays reserved"
    assert _position(w, "dc-nj", "SKU-SP") == (5, 2)
    movements = w.store.ledger(node_id="dc-il", sku="SKU-SP")
    assert any(m.kind.value == "short_pick" and m.on_hand_delta == -2 for m in movements)

    for step in (ShipmentEventType.PACKED, ShipmentEventType.SHIPPED, ShipmentEventType.DELIVERED):
        await w.sdk.send_shipment_event(_event(first.shipment_id, step))
    await warehouse_ships(w, second.shipment_id)
    final = await w.temporal.get_workflow_handle(view.workflow_id, result_type=OrderView).result()
    assert final.status is OrderStatus.COMPLETED
    assert sum(line.quantity for s in final.shipments for line in s.lines) == 3


async def test_a_rejected_shipment_is_handed_back_and_sourced_from_another_node(
        omniroute_worker: RunningWorker) -> None:
    w = omniroute_worker
    add_node(w.store, "dc-il", "60106")
    add_node(w.store, "dc-nj", "08817")
    w.store.set_on_hand("dc-il", "SKU-RJ", 4, source="test")
    w.store.set_on_hand("dc-nj", "SKU-RJ", 4, source="test")
    order = an_order(("SKU-RJ", 2))
    await w.sdk.place_order(order)
    [first] = (await wait_for(w, order.order_id, all_released)).shipments

    with pytest.raises(EventRejectedError, match="no cancel is waiting"):  # nobody asked the node to cancel
        await w.sdk.send_shipment_event(_event(first.shipment_id, ShipmentEventType.CANCELLED))
    await w.sdk.send_shipment_event(_event(first.shipment_id, ShipmentEventType.REJECTED, reason="aisle flooded"))

    view = await wait_for(w, order.order_id, lambda v: len(v.shipments) == 2 and any(
        s.state is ShipmentState.RELEASED for s in v.shipments))
    states = {s.node_id: s.state for s in view.shipments}
    assert states == {"dc-il": ShipmentState.CANCELLED, "dc-nj": ShipmentState.RELEASED}
    assert _position(w, "dc-il", "SKU-RJ") == (4, 0), "the rejecting node's stock is released, not written off"
    [label] = w.sandbox.labels(reference=first.shipment_id)
    assert label["refunded"] is True, "the rejected shipment's label is voided"
    assert any("dc-il handed back" in event and "aisle flooded" in event for event in view.events)


async def test_a_shipped_event_and_a_cancel_at_the_same_moment_never_both_win(
        omniroute_worker: RunningWorker) -> None:
    """Each race has one winner: the shipped event (the cancel then fails naming the shipment, the label
    stays valid, the unit leaves the books, the customer hears the cancel came too late) or the cancel
    (the event is refused, the label voided, the stock released). Never both answered yes."""
    w = omniroute_worker
    # A node that answers a cancel at once (a webhook WMS that agrees); a pull node that has started
    # answers later, by event (docs/fulfilment-dc.md).
    add_webhook_node(w.store, w.sandbox, "dc-il", "60106", cancel="accept")
    w.store.set_on_hand("dc-il", "SKU-RC", 20, source="test")
    winners = []
    for _ in range(6):
        order = an_order(("SKU-RC", 1))
        await w.sdk.place_order(order)
        [shipment] = (await wait_for(w, order.order_id, all_released)).shipments
        await w.sdk.send_shipment_event(_event(shipment.shipment_id, ShipmentEventType.PACKED))
        before = _position(w, "dc-il", "SKU-RC")[0]

        shipped, cancelled = await asyncio.gather(
            w.sdk.send_shipment_event(_event(shipment.shipment_id, ShipmentEventType.SHIPPED)),
            w.sdk.cancel_order(order.order_id, CancelOrder(reason="race")), return_exceptions=True)

        [label] = w.sandbox.labels(reference=shipment.shipment_id)
        if isinstance(shipped, BaseException):
            assert isinstance(shipped, EventRejectedError) and not isinstance(cancelled, BaseException), (shipped,
                                                                                                          cancelled)
            view = await wait_for(w, order.order_id, lambda v: v.status is OrderStatus.CANCELLED)
            assert view.shipments[0].state is ShipmentState.CANCELLED and label["refunded"] is True
            assert _position(w, "dc-il", "SKU-RC")[0] == before
            winners.append("cancel")
            continue
        assert isinstance(cancelled, CancelRejectedError), cancelled
        assert label["refunded"] is False, "a parcel on its way keeps its label"
        assert _position(w, "dc-il", "SKU-RC")[0] == before - 1, "the shipped unit left the books"
        if "before the cancel reached the node" in str(cancelled):
            assert shipment.shipment_id in str(cancelled)
            await eventually(lambda o=order: any("had shipped before your cancel" in m["subject"]
                                                 for m in w.sandbox.messages(to=str(o.customer.email))),
                             "the customer is told the cancel came too late")
        winners.append("shipped")
    assert len(winners) == 6


async def test_a_carrier_exception_is_recorded_and_the_customer_told(omniroute_worker: RunningWorker) -> None:
    w = omniroute_worker
    add_node(w.store, "dc-il", "60106")
    w.store.set_on_hand("dc-il", "SKU-EX", 4, source="test")
    order = an_order(("SKU-EX", 1))
    await w.sdk.place_order(order)
    [shipment] = (await wait_for(w, order.order_id, all_released)).shipments
    await warehouse_ships(w, shipment.shipment_id, deliver=False)

    await w.sdk.send_shipment_event(_event(shipment.shipment_id, ShipmentEventType.EXCEPTION,
                                           exception=TrackingException.FAILED_ATTEMPT))

    view = await wait_for(w, order.order_id, lambda v: v.shipments[0].exception is not None)
    assert view.shipments[0].exception is TrackingException.FAILED_ATTEMPT
    record = w.store.get_shipment(shipment.shipment_id)
    assert record is not None and record.exception is TrackingException.FAILED_ATTEMPT
    await eventually(lambda: any("problem with the delivery" in m["subject"]
                                 for m in w.sandbox.messages(to=str(order.customer.email))),
                     "the customer is told of the failed attempt")

    await w.sdk.send_shipment_event(_event(shipment.shipment_id, ShipmentEventType.DELIVERED))
    final = await w.temporal.get_workflow_handle(view.workflow_id, result_type=OrderView).result()
    assert final.status is OrderStatus.COMPLETED and final.shipments[0].exception is None
