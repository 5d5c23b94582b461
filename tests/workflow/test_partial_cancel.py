"""A cancel of some lines of a shipment the node already has asks the node (docs/lifecycle.md): a WMS
cannot drop lines, so it is asked to cancel the whole shipment; its yes cancels the lines and plans the
others again, its later `cancelled` does the same, and a shipped event that comes first wins (the cancel
then fails for those lines, naming that they shipped). A pull node that has not taken the shipment yet
reads it without the lines."""

from __future__ import annotations

import uuid

import pytest

from models.handoff import CANCEL_REQUESTED_MESSAGE
from models.order import CancelOrder, LineStatus, OrderStatus, OrderView
from models.shipment import ShipmentEvent, ShipmentEventType, ShipmentState
from omniroute.client import CancelRejectedError
from tests.fixtures.eventually import eventually
from tests.fixtures.network import add_node, add_webhook_node
from tests.fixtures.orders import an_order
from tests.fixtures.temporal import RunningWorker
from tests.fixtures.workflows import all_released, wait_for, warehouse_ships


def _event(shipment_id: str, kind: ShipmentEventType) -> ShipmentEvent:
    return ShipmentEvent(shipment_id=shipment_id, type=kind, event_id=f"{shipment_id}-{kind.value}")


async def _two_lines_at_webhook_node(w: RunningWorker, cancel: str) -> tuple[str, str, str]:
    """(order_id, shipment_id, node_id): a two-line order in one shipment released to a webhook DC."""
    node = f"dc-pc-{uuid.uuid4().hex[:6]}"
    add_webhook_node(w.store, w.sandbox, node, "60106", cancel=cancel)
    w.store.set_on_hand(node, "SKU-PA", 5, source="test")
    w.store.set_on_hand(node, "SKU-PB", 5, source="test")
    order = an_order(("SKU-PA", 1), ("SKU-PB", 2))
    await w.sdk.place_order(order)
    [shipment] = (await wait_for(w, order.order_id, all_released)).shipments
    return order.order_id, shipment.shipment_id, node


def _reserved(w: RunningWorker, node_id: str, sku: str) -> int:
    return next(n.reserved for n in w.store.availability(sku).nodes if n.node_id == node_id)


def _asked(w: RunningWorker, sid: str) -> list[dict[str, object]]:
    return [m for m in w.sandbox.wms_messages(shipment_id=sid) if m["type"] == CANCEL_REQUESTED_MESSAGE]


async def test_a_partial_cancel_the_wms_accepts_cancels_the_shipment_and_ships_the_rest_anew(
        omniroute_worker: RunningWorker) -> None:
    w = omniroute_worker
    order_id, sid, node = await _two_lines_at_webhook_node(w, cancel="accept")
    await w.sdk.send_shipment_event(_event(sid, ShipmentEventType.PICKED))

    result = await w.sdk.cancel_order(order_id, CancelOrder(line_nos=[2], reason="one is enough"))

    assert result.cancelled_line_nos == [2] and result.cancelled_shipment_ids == [sid]
    assert len(_asked(w, sid)) == 1, "the WMS that works the shipment is asked, not bypassed"
    view = await wait_for(w, order_id, lambda v: len(v.shipments) == 2 and any(
        s.shipment_id != sid and s.state is ShipmentState.RELEASED for s in v.shipments))
    by_id = {s.shipment_id: s for s in view.shipments}
    assert by_id[sid].state is ShipmentState.CANCELLED
    [fresh] = [s for s in view.shipments if s.shipment_id != sid]
    assert [(line.line_no, line.sku, line.quantity) for line in fresh.lines] == [(1, "SKU-PA", 1)]
    assert fresh.node_id == node, "the node cancelled for the order's sake: it may ship the rest again"
    [label] = w.sandbox.labels(reference=sid)
    assert label["refunded"] is True
    assert _reserved(w, node, "SKU-PB") == 0 and _reserved(w, node, "SKU-PA") == 1
    assert any("cancelled the whole shipment; planning SKU-PA x1 again" in e for e in view.events), view.events

    await warehouse_ships(w, fresh.shipment_id)
    final = await w.temporal.get_workflow_handle(f"order-{order_id}", result_type=OrderView).result()
    assert final.status is OrderStatus.COMPLETED
    assert [line.status for line in final.lines] == [LineStatus.DELIVERED, LineStatus.CANCELLED]
    assert final.lines[1].quantity_cancelled == 2 and final.lines[0].quantity_cancelled == 0


async def test_a_partial_cancel_the_wms_answers_later_waits_for_its_cancelled_event(
        omniroute_worker: RunningWorker) -> None:
    w = omniroute_worker
    order_id, sid, node = await _two_lines_at_webhook_node(w, cancel="later")

    asked = await w.sdk.cancel_order(order_id, CancelOrder(line_nos=[1], reason="wrong colour"))

    assert asked.requested_shipment_ids == [sid] and asked.cancelled_line_nos == []
    view = await wait_for(w, order_id, lambda v: v.shipments[0].cancel_requested)
    assert [line.sku for line in view.shipments[0].lines] == ["SKU-PA", "SKU-PB"], "no line dropped behind its back"
    assert view.lines[0].quantity_cancelled == 0

    await w.sdk.send_shipment_event(_event(sid, ShipmentEventType.CANCELLED))

    view = await wait_for(w, order_id, lambda v: any(
        s.shipment_id != sid and s.state is ShipmentState.RELEASED for s in v.shipments))
    [fresh] = [s for s in view.shipments if s.shipment_id != sid]
    assert [(line.sku, line.quantity) for line in fresh.lines] == [("SKU-PB", 2)]
    assert view.lines[0].status is LineStatus.CANCELLED and view.lines[0].cancel_reason == "wrong colour"
    email = str((await w.sdk.get_order(order_id)).order_id)
    await eventually(lambda: any(f"Part of your order {email} was cancelled" in m["subject"]
                                 for m in w.sandbox.messages()), "the customer hears the line went")
    await warehouse_ships(w, fresh.shipment_id)
    final = await w.temporal.get_workflow_handle(f"order-{order_id}", result_type=OrderView).result()
    assert [line.status for line in final.lines] == [LineStatus.CANCELLED, LineStatus.DELIVERED]


async def test_a_shipped_event_before_the_partial_cancel_wins_and_the_cancel_names_it(
        omniroute_worker: RunningWorker) -> None:
    w = omniroute_worker
    order_id, sid, _node = await _two_lines_at_webhook_node(w, cancel="later")
    await warehouse_ships(w, sid, deliver=False)

    with pytest.raises(CancelRejectedError, match="shipped") as refused:
        await w.sdk.cancel_order(order_id, CancelOrder(line_nos=[2], reason="too late"))

    assert "line_nos" in str(refused.value)
    assert not _asked(w, sid), "nothing to ask once it has shipped"
    view = await w.sdk.get_order(order_id)
    assert [line.quantity_cancelled for line in view.lines] == [0, 0]
    [label] = w.sandbox.labels(reference=sid)
    assert label["refunded"] is False


async def test_a_shipped_event_before_the_node_answers_wins_over_the_partial_cancel(
        omniroute_worker: RunningWorker) -> None:
    """The node was asked (no answer yet) and then ships: both lines travel, nothing is cancelled or
    planned again."""
    w = omniroute_worker
    order_id, sid, _node = await _two_lines_at_webhook_node(w, cancel="later")
    asked = await w.sdk.cancel_order(order_id, CancelOrder(line_nos=[2], reason="changed my mind"))
    assert asked.requested_shipment_ids == [sid]

    await warehouse_ships(w, sid)

    final = await w.temporal.get_workflow_handle(f"order-{order_id}", result_type=OrderView).result()
    assert final.status is OrderStatus.COMPLETED and len(final.shipments) == 1
    assert [line.status for line in final.lines] == [LineStatus.DELIVERED, LineStatus.DELIVERED]
    assert [line.quantity_cancelled for line in final.lines] == [0, 0]


async def test_a_pull_node_that_has_not_taken_the_shipment_reads_it_without_the_lines(
        omniroute_worker: RunningWorker) -> None:
    w = omniroute_worker
    node = f"dc-pl-{uuid.uuid4().hex[:6]}"
    add_node(w.store, node, "60106")
    w.store.set_on_hand(node, "SKU-PC", 5, source="test")
    w.store.set_on_hand(node, "SKU-PD", 5, source="test")
    order = an_order(("SKU-PC", 1), ("SKU-PD", 1))
    await w.sdk.place_order(order)
    [shipment] = (await wait_for(w, order.order_id, all_released)).shipments

    result = await w.sdk.cancel_order(order.order_id, CancelOrder(line_nos=[2]))

    assert result.cancelled_line_nos == [2] and result.cancelled_shipment_ids == []
    view = await w.sdk.get_order(order.order_id)
    assert len(view.shipments) == 1 and [line.sku for line in view.shipments[0].lines] == ["SKU-PC"]
    assert _reserved(w, node, "SKU-PD") == 0
