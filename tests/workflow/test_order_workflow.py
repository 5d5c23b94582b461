"""The order lifecycle on a real Temporal dev server, a real SQLite ledger and the HTTP sandboxes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from temporalio.client import WorkflowFailureError

from models.names import ORDER_WORKFLOW, order_workflow_id
from models.order import CancelOrder, LineStatus, OrderStatus, OrderView
from models.shipment import ShipmentState
from omniroute.client import CancelRejectedError
from tests.fixtures.eventually import eventually, eventually_reads
from tests.fixtures.network import add_node
from tests.fixtures.orders import an_order
from tests.fixtures.temporal import RunningWorker
from tests.fixtures.workflows import all_released, wait_for, warehouse_ships


@pytest.mark.parametrize("worker_store", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
                         indirect=True)
async def test_an_order_flows_from_intake_to_delivery_and_commits_stock(omniroute_worker: RunningWorker) -> None:
    w = omniroute_worker
    add_node(w.store, "dc-nj", "08817")
    add_node(w.store, "dc-il", "60106")
    w.store.set_on_hand("dc-nj", "SKU-1", 10, source="test")
    w.store.set_on_hand("dc-il", "SKU-1", 10, source="test")
    order = an_order(("SKU-1", 2))

    accepted = await w.sdk.place_order(order)
    view = await wait_for(w, order.order_id, all_released)
    [shipment] = view.shipments
    assert shipment.node_id == "dc-il", "the Chicago order goes to the Illinois DC, not New Jersey"
    assert shipment.tracking_number and shipment.carrier and shipment.label_cost and shipment.label_cost.amount > 0
    assert w.store.availability("SKU-1").total_atp == 18, "two units are reserved"
    [reservation] = w.store.reservations(order.order_id)
    ttl = reservation.expires_at - datetime.now(UTC) if reservation.expires_at else None
    assert ttl is not None and abs(ttl - timedelta(hours=w.settings.reservation_ttl_hours)) < timedelta(minutes=5)

    await warehouse_ships(w, shipment.shipment_id)
    result = await w.temporal.get_workflow_handle(accepted.workflow_id, result_type=OrderView).result()

    assert result.status is OrderStatus.COMPLETED
    final = await w.sdk.get_order(order.order_id)
    assert final.status is OrderStatus.COMPLETED
    assert final.shipments[0].state is ShipmentState.DELIVERED
    assert [line.status for line in final.lines] == [LineStatus.DELIVERED]
    il = next(n for n in w.store.availability("SKU-1").nodes if n.node_id == "dc-il")
    assert (il.on_hand, il.reserved) == (8, 0), "commit takes on_hand and reserved down together"
    assert len(w.sandbox.labels(reference=shipment.shipment_id)) == 1
    subjects = [m["subject"] for m in w.sandbox.messages(to=str(order.customer.email))]
    assert any("shipped" in s for s in subjects) and any("delivered" in s for s in subjects)
    record = w.store.get_shipment(shipment.shipment_id)
    assert record is not None and record.state is ShipmentState.DELIVERED and record.delivered_at is not None


async def test_a_line_no_single_node_can_fill_is_split_across_nodes(omniroute_worker: RunningWorker) -> None:
    w = omniroute_worker
    add_node(w.store, "dc-nj", "08817")
    add_node(w.store, "store-il", "60614")
    w.store.set_on_hand("store-il", "SKU-2", 2, source="test")
    w.store.set_on_hand("dc-nj", "SKU-2", 3, source="test")
    order = an_order(("SKU-2", 4))

    await w.sdk.place_order(order)
    view = await wait_for(w, order.order_id, all_released)

    by_node = {s.node_id: sum(line.quantity for line in s.lines) for s in view.shipments}
    assert by_node == {"store-il": 2, "dc-nj": 2}
    assert view.status is OrderStatus.FULFILLING


async def test_a_line_nobody_can_fill_is_cancelled_with_its_reason_and_the_customer_told(
        omniroute_worker: RunningWorker) -> None:
    w = omniroute_worker
    add_node(w.store, "dc-il", "60106")
    w.store.set_on_hand("dc-il", "SKU-3", 5, source="test")
    order = an_order(("SKU-3", 1), ("SKU-NONE", 2))

    await w.sdk.place_order(order)
    view = await wait_for(w, order.order_id, all_released)

    missing = view.lines[1]
    assert missing.status is LineStatus.CANCELLED and missing.quantity_cancelled == 2
    assert missing.cancel_reason and "no stock" in missing.cancel_reason
    await eventually(lambda: any("cancelled" in m["text"] for m in w.sandbox.messages(to=str(order.customer.email))),
                     "an email telling the customer a line was cancelled")


async def test_an_order_nothing_can_fill_ends_cancelled(omniroute_worker: RunningWorker) -> None:
    w = omniroute_worker
    add_node(w.store, "dc-il", "60106")
    order = an_order(("SKU-GONE", 1))

    await w.sdk.place_order(order)
    final = await w.temporal.get_workflow_handle(order_workflow_id(order.order_id), result_type=OrderView).result()

    assert final.status is OrderStatus.CANCELLED
    view = await w.sdk.get_order(order.order_id)
    assert view.status is OrderStatus.CANCELLED and view.shipments == []


@pytest.mark.parametrize("worker_store", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
                         indirect=True)
async def test_cancelling_before_shipping_voids_the_label_and_releases_the_stock(
        omniroute_worker: RunningWorker) -> None:
    w = omniroute_worker
    add_node(w.store, "dc-il", "60106")
    w.store.set_on_hand("dc-il", "SKU-4", 3, source="test")
    order = an_order(("SKU-4", 3))
    await w.sdk.place_order(order)
    view = await wait_for(w, order.order_id, all_released)
    assert w.store.availability("SKU-4").total_atp == 0

    result = await w.sdk.cancel_order(order.order_id, CancelOrder(reason="changed my mind"))

    assert result.status is OrderStatus.CANCELLED and result.cancelled_line_nos == [1]
    assert w.store.availability("SKU-4").total_atp == 3
    [label] = w.sandbox.labels(reference=view.shipments[0].shipment_id)
    assert label["refunded"] is True
    await w.temporal.get_workflow_handle(order_workflow_id(order.order_id)).result()
    final = await w.sdk.get_order(order.order_id)
    assert final.status is OrderStatus.CANCELLED
    assert final.lines[0].cancel_reason == "changed my mind"


async def test_cancelling_one_line_keeps_the_rest_of_the_shipment(omniroute_worker: RunningWorker) -> None:
    w = omniroute_worker
    add_node(w.store, "dc-il", "60106")
    w.store.set_on_hand("dc-il", "SKU-5", 4, source="test")
    w.store.set_on_hand("dc-il", "SKU-6", 4, source="test")
    order = an_order(("SKU-5", 1), ("SKU-6", 2))
    await w.sdk.place_order(order)
    view = await wait_for(w, order.order_id, all_released)

    result = await w.sdk.cancel_order(order.order_id, CancelOrder(line_nos=[2]))

    assert result.cancelled_line_nos == [2] and result.cancelled_shipment_ids == []
    assert w.store.availability("SKU-6").total_atp == 4 and w.store.availability("SKU-5").total_atp == 3
    await warehouse_ships(w, view.shipments[0].shipment_id)
    await w.temporal.get_workflow_handle(order_workflow_id(order.order_id)).result()
    final = await w.sdk.get_order(order.order_id)
    assert final.status is OrderStatus.COMPLETED
    assert [line.status for line in final.lines] == [LineStatus.DELIVERED, LineStatus.CANCELLED]


async def test_a_shipped_order_cannot_be_cancelled(omniroute_worker: RunningWorker) -> None:
    w = omniroute_worker
    add_node(w.store, "dc-il", "60106")
    w.store.set_on_hand("dc-il", "SKU-7", 2, source="test")
    order = an_order(("SKU-7", 1))
    await w.sdk.place_order(order)
    view = await wait_for(w, order.order_id, all_released)
    await warehouse_ships(w, view.shipments[0].shipment_id, deliver=False)
    await wait_for(w, order.order_id, lambda v: v.status is OrderStatus.SHIPPED)

    with pytest.raises(CancelRejectedError, match="shipped"):
        await w.sdk.cancel_order(order.order_id, CancelOrder())
    on_hand = w.store.availability("SKU-7").nodes[0].on_hand
    assert on_hand == 1, "shipping committed the unit"


async def test_a_failed_label_purchase_compensates_every_shipment(omniroute_worker: RunningWorker) -> None:
    """A node with no postal code gets no label (the carrier needs a ZIP): the order fails, the other
    shipment's label is voided and every reservation is released."""
    w = omniroute_worker
    add_node(w.store, "dc-il", "60106")
    add_node(w.store, "dc-nozip", None, latitude=41.9, longitude=-87.7)
    w.store.set_on_hand("dc-il", "SKU-8", 1, source="test")
    w.store.set_on_hand("dc-nozip", "SKU-8", 1, source="test")
    order = an_order(("SKU-8", 2))

    await w.sdk.place_order(order)
    with pytest.raises(WorkflowFailureError):
        await w.temporal.get_workflow_handle(order_workflow_id(order.order_id)).result()

    view = await w.sdk.get_order(order.order_id)
    assert view.status is OrderStatus.FAILED and view.failure
    assert all(s.state is ShipmentState.CANCELLED for s in view.shipments)
    assert w.store.availability("SKU-8").total_atp == 2, "both reservations released"
    nozip = next(s for s in view.shipments if s.node_id == "dc-nozip")
    assert w.sandbox.labels(reference=nozip.shipment_id) == [], "no ZIP, no label"
    il_shipment = next(s for s in view.shipments if s.node_id == "dc-il")
    # The Illinois label may or may not have been bought before the other shipment failed; any that was is voided.
    assert all(label["refunded"] for label in w.sandbox.labels(reference=il_shipment.shipment_id))
    await eventually(lambda: any("could not complete" in m["subject"]
                                 for m in w.sandbox.messages(to=str(order.customer.email))),
                     "an email telling the customer the order could not complete")


async def test_the_same_order_twice_is_one_workflow(omniroute_worker: RunningWorker) -> None:
    w = omniroute_worker
    add_node(w.store, "dc-il", "60106")
    w.store.set_on_hand("dc-il", "SKU-9", 5, source="test")
    order = an_order(("SKU-9", 1))

    first = await w.sdk.place_order(order)
    second = await w.sdk.place_order(order)

    assert first.created and not second.created and first.workflow_id == second.workflow_id
    await wait_for(w, order.order_id, all_released)
    assert w.store.availability("SKU-9").total_atp == 4, "reserved once"


async def test_operators_find_orders_by_status_channel_and_shipment(omniroute_worker: RunningWorker) -> None:
    w = omniroute_worker
    add_node(w.store, "dc-il", "60106")
    w.store.set_on_hand("dc-il", "SKU-10", 5, source="test")
    order = an_order(("SKU-10", 1), channel="marketplace")
    await w.sdk.place_order(order)
    view = await wait_for(w, order.order_id, all_released)
    shipment = view.shipments[0]

    query = (f"WorkflowType = '{ORDER_WORKFLOW}' AND Channel = 'marketplace' AND OrderStatus = 'fulfilling' "
             f"AND ShipmentIds = '{shipment.shipment_id}' AND TrackingNumbers = '{shipment.tracking_number}'")

    async def found() -> list[str]:
        return [wf.id async for wf in w.temporal.list_workflows(query)]

    listed = await eventually_reads(found, lambda ids: ids == [order_workflow_id(order.order_id)],
                                    "visibility to list the order by its search attributes")
    assert listed == [order_workflow_id(order.order_id)]


async def test_cancelling_the_workflow_from_the_ui_undoes_every_shipment(omniroute_worker: RunningWorker) -> None:
    w = omniroute_worker
    add_node(w.store, "dc-il", "60106")
    add_node(w.store, "dc-nj", "08817")
    w.store.set_on_hand("dc-il", "SKU-11", 1, source="test")
    w.store.set_on_hand("dc-nj", "SKU-11", 1, source="test")
    order = an_order(("SKU-11", 2))
    await w.sdk.place_order(order)
    view = await wait_for(w, order.order_id, all_released)
    handle = w.temporal.get_workflow_handle(order_workflow_id(order.order_id))

    await handle.cancel()
    with pytest.raises(WorkflowFailureError):
        await handle.result()

    assert w.store.availability("SKU-11").total_atp == 2
    for shipment in view.shipments:
        [label] = w.sandbox.labels(reference=shipment.shipment_id)
        assert label["refunded"] is True
    record = w.store.get_order(order.order_id)
    assert record is not None and record.status is OrderStatus.CANCELLED, "the read model says so too"
