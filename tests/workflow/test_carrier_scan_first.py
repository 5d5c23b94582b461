"""A carrier's scan that reaches a labelled shipment before its node reported it shipped, on a real
Temporal dev server with the real workers and the sandboxes: `shipped` is recorded first (at the scan's
time, with the label's tracking number), then the scan; the customer hears of the shipment once; the
node's own steps that come later are answered as done and move nothing; a cancel after the scan fails
naming the shipped lines."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from models.order import CancelOrder, OrderStatus, OrderView
from models.shipment import ShipmentEvent, ShipmentEventType, ShipmentState, TrackingException
from omniroute.client import CancelRejectedError, EventRejectedError
from tests.fixtures.eventually import eventually
from tests.fixtures.network import add_node
from tests.fixtures.orders import an_order
from tests.fixtures.stores import add_store
from tests.fixtures.temporal import RunningWorker
from tests.fixtures.workflows import all_released, wait_for

_E = ShipmentEventType


def _event(shipment_id: str, kind: ShipmentEventType, event_id: str | None = None, **data: object) -> ShipmentEvent:
    return ShipmentEvent.model_validate({"shipment_id": shipment_id, "type": kind,
                                         "event_id": event_id or f"{shipment_id}-{kind.value}", **data})


async def _released(w: RunningWorker, sku: str) -> tuple[str, str, str, str]:
    """(order_id, shipment_id, tracking number, customer e-mail) of one unit released to a fresh DC."""
    node = f"dc-scan-{uuid.uuid4().hex[:6]}"
    add_node(w.store, node, "60106")
    w.store.set_on_hand(node, sku, 5, source="test")
    order = an_order((sku, 1))
    await w.sdk.place_order(order)
    [shipment] = (await wait_for(w, order.order_id, all_released)).shipments
    assert shipment.tracking_number is not None
    return order.order_id, shipment.shipment_id, shipment.tracking_number, str(order.customer.email)


def _shipped_notices(w: RunningWorker, email: str) -> list[str]:
    return [m["subject"] for m in w.sandbox.messages(to=email) if m["subject"].endswith("has shipped")]


async def test_in_transit_before_shipped_records_shipped_then_in_transit_and_a_late_shipped_is_done(
        omniroute_worker: RunningWorker) -> None:
    w = omniroute_worker
    order_id, sid, tracking, email = await _released(w, "SKU-CS1")
    await w.sdk.send_shipment_event(_event(sid, _E.PICKED))
    scanned_at = datetime.now(UTC) - timedelta(minutes=5)

    scan = await w.sdk.send_shipment_event(_event(sid, _E.IN_TRANSIT, "evt_scan_1", occurred_at=scanned_at,
                                                  carrier="USPS", tracking_number=tracking))

    assert (scan.from_state, scan.to_state, scan.replay) == (ShipmentState.PICKED, ShipmentState.IN_TRANSIT, False)
    view = await wait_for(w, order_id, lambda v: v.shipments[0].state is ShipmentState.IN_TRANSIT)
    shown = view.shipments[0]
    assert shown.shipped_at == scanned_at and shown.tracking_number == tracking
    notes = [e for e in view.events if e.startswith(f"{sid} ")]
    shipped_at = next(i for i, e in enumerate(notes) if e.startswith(f"{sid} shipped"))
    in_transit_at = next(i for i, e in enumerate(notes) if e.startswith(f"{sid} in_transit"))
    assert shipped_at < in_transit_at, notes
    record = w.store.get_shipment(sid)
    assert record is not None and record.shipped_at == scanned_at and record.tracking_number == tracking

    for step in (_E.PACKED, _E.SHIPPED):
        late = await w.sdk.send_shipment_event(_event(sid, step))
        assert (late.replay, late.carrier_first) == (True, True), step
        assert late.from_state is late.to_state is ShipmentState.IN_TRANSIT
    assert (await w.sdk.get_order(order_id)).shipments[0].state is ShipmentState.IN_TRANSIT
    with pytest.raises(EventRejectedError, match="cannot apply in_transit"):
        await w.sdk.send_shipment_event(_event(sid, _E.IN_TRANSIT, "evt_scan_again"))

    await w.sdk.send_shipment_event(_event(sid, _E.DELIVERED, "evt_scan_2"))
    done = await w.temporal.get_workflow_handle(f"order-{order_id}", result_type=OrderView).result()
    assert done.status is OrderStatus.COMPLETED
    after_the_end = await w.sdk.send_shipment_event(_event(sid, _E.SHIPPED, f"{sid}-shipped-again"))
    assert (after_the_end.replay, after_the_end.carrier_first) == (True, True)
    await eventually(lambda: _delivered_notice(w, email), "the delivered notice")
    assert _shipped_notices(w, email) == [f"Your order {order_id} has shipped"]


def _delivered_notice(w: RunningWorker, email: str) -> bool:
    return any("delivered" in m["subject"] for m in w.sandbox.messages(to=email))


async def test_a_carrier_exception_before_shipped_ships_it_and_records_the_exception(
        omniroute_worker: RunningWorker) -> None:
    w = omniroute_worker
    order_id, sid, _tracking, email = await _released(w, "SKU-CS2")

    applied = await w.sdk.send_shipment_event(_event(sid, _E.EXCEPTION, "evt_fail_1",
                                                     exception=TrackingException.FAILED_ATTEMPT))

    assert (applied.from_state, applied.to_state) == (ShipmentState.RELEASED, ShipmentState.SHIPPED)
    view = await wait_for(w, order_id, lambda v: v.shipments[0].exception is TrackingException.FAILED_ATTEMPT)
    assert view.shipments[0].state is ShipmentState.SHIPPED
    await eventually(lambda: len(_shipped_notices(w, email)) == 1, "one shipped notice")
    picked = await w.sdk.send_shipment_event(_event(sid, _E.PICKED))
    assert picked.carrier_first and picked.to_state is ShipmentState.SHIPPED


async def test_a_cancel_after_the_carrier_scanned_fails_naming_the_shipped_lines(
        omniroute_worker: RunningWorker) -> None:
    w = omniroute_worker
    order_id, sid, _tracking, _email = await _released(w, "SKU-CS3")
    await w.sdk.send_shipment_event(_event(sid, _E.IN_TRANSIT, "evt_scan_cancel"))
    await wait_for(w, order_id, lambda v: v.shipments[0].state is ShipmentState.IN_TRANSIT)

    with pytest.raises(CancelRejectedError, match=f"line_nos: \\[1\\] shipped .*{sid}"):
        await w.sdk.cancel_order(order_id, CancelOrder(reason="changed my mind"))
    [label] = w.sandbox.labels(reference=sid)
    assert label["refunded"] is False


async def test_a_shipped_event_before_the_cancel_still_wins(omniroute_worker: RunningWorker) -> None:
    w = omniroute_worker
    order_id, sid, _tracking, _email = await _released(w, "SKU-CS4")
    await w.sdk.send_shipment_event(_event(sid, _E.SHIPPED))

    with pytest.raises(CancelRejectedError, match="shipped"):
        await w.sdk.cancel_order(order_id, CancelOrder(reason="changed my mind"))
    scan = await w.sdk.send_shipment_event(_event(sid, _E.IN_TRANSIT, "evt_scan_after"))
    assert (scan.from_state, scan.to_state, scan.carrier_first) == (ShipmentState.SHIPPED, ShipmentState.IN_TRANSIT,
                                                                    False)
    with pytest.raises(EventRejectedError, match="cannot apply packed"):
        await w.sdk.send_shipment_event(_event(sid, _E.PACKED))


async def test_a_ship_from_store_scanned_before_it_is_picked_moves_on(omniroute_worker: RunningWorker) -> None:
    w = omniroute_worker
    store = f"store-scan-{uuid.uuid4().hex[:6]}"
    add_store(w.store, store, "60614")
    w.store.set_on_hand(store, "SKU-CS5", 3, source="test")
    order = an_order(("SKU-CS5", 1))
    await w.sdk.place_order(order)
    [shipment] = (await wait_for(w, order.order_id, all_released)).shipments
    sid = shipment.shipment_id
    await w.sdk.send_shipment_event(_event(sid, _E.ACCEPTED))
    labelled = await wait_for(w, order.order_id, lambda v: v.shipments[0].tracking_number is not None)

    await w.sdk.send_shipment_event(_event(sid, _E.OUT_FOR_DELIVERY, "evt_store_scan"))

    view = await wait_for(w, order.order_id, lambda v: v.shipments[0].state is ShipmentState.OUT_FOR_DELIVERY)
    assert view.shipments[0].tracking_number == labelled.shipments[0].tracking_number
    assert any(e.startswith(f"{sid} shipped") for e in view.events), view.events
    assert (await w.sdk.send_shipment_event(_event(sid, _E.PICKED))).carrier_first
