"""A pickup order's handed-back lines go only to another pickup store, unless a rule says
`pickup_fallback: ship`: then, when no other pickup store can fill them and the order has a ship_to,
they are shipped to the customer instead and the customer is told; a pickup order without a ship_to is
backordered or cancelled by policy as before."""

from __future__ import annotations

from models.address import Address
from models.fulfilment import FulfilShipment
from models.names import fulfilment_workflow_id
from models.order import LineStatus, OrderStatus, OrderView
from models.shipment import ShipmentEvent, ShipmentEventType, ShipmentState
from omniroute.files.rule_files import parse_rules
from tests.fixtures.eventually import eventually
from tests.fixtures.network import add_node
from tests.fixtures.orders import CHICAGO
from tests.fixtures.stores import PICKUP_FALLBACK_SHIP_RULES, a_pickup_order, add_store
from tests.fixtures.temporal import RunningWorker
from tests.fixtures.workflows import all_released, wait_for, warehouse_ships


async def _rejected_at_the_store(w: RunningWorker, sku: str, ship_to: Address | None) -> tuple[str, str]:
    """A pickup order at the only store with stock, which rejects it; a DC holds stock too:
    (order_id, workflow_id)."""
    add_store(w.store, "store-chi", "60614")
    add_node(w.store, "dc-il", "60106")
    w.store.set_on_hand("store-chi", sku, 3, source="test")
    w.store.set_on_hand("dc-il", sku, 3, source="test")
    order = a_pickup_order("store-chi", (sku, 2)).model_copy(update={"ship_to": ship_to})
    await w.sdk.place_order(order)
    view = await wait_for(w, order.order_id, all_released)
    [first] = view.shipments
    assert first.node_id == "store-chi" and first.pickup
    await w.sdk.send_shipment_event(ShipmentEvent(shipment_id=first.shipment_id, type=ShipmentEventType.REJECTED,
                                                  event_id=f"{first.shipment_id}-rej", reason="shelf empty"))
    return order.order_id, view.workflow_id


async def _fulfilment_input(w: RunningWorker, shipment_id: str) -> FulfilShipment:
    history = await w.temporal.get_workflow_handle(fulfilment_workflow_id(shipment_id)).fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes
    [request] = await w.temporal.data_converter.decode(started.input.payloads, [FulfilShipment])
    assert isinstance(request, FulfilShipment)
    return request


async def test_with_the_rule_a_handed_back_pickup_ships_to_the_customer(omniroute_worker: RunningWorker) -> None:
    w = omniroute_worker
    w.store.set_rules(parse_rules(PICKUP_FALLBACK_SHIP_RULES))
    order_id, workflow_id = await _rejected_at_the_store(w, "SKU-FB", CHICAGO)

    view = await wait_for(w, order_id, lambda v: len(v.shipments) == 2 and v.shipments[1].state is
                          ShipmentState.RELEASED)

    shipped = view.shipments[1]
    assert shipped.node_id == "dc-il" and shipped.pickup is False, "a shipment to the customer, not a pickup"
    assert [(line.sku, line.quantity) for line in shipped.lines] == [("SKU-FB", 2)]
    assert any("shipped to the customer instead (rule pickup_fallback: ship)" in e for e in view.events), view.events
    request = await _fulfilment_input(w, shipped.shipment_id)
    assert request.ship_to == CHICAGO and not request.pickup, "sent to the customer, not the store"
    assert w.sandbox.labels(reference=shipped.shipment_id), "a label bought, as for any shipment to a customer"
    await eventually(lambda: any("will be shipped to you instead of picked up" in m["subject"]
                                 for m in w.sandbox.messages()), "the customer is told it will be shipped")
    await warehouse_ships(w, shipped.shipment_id)
    final = await w.temporal.get_workflow_handle(workflow_id, result_type=OrderView).result()
    assert final.status is OrderStatus.COMPLETED and final.lines[0].status is LineStatus.DELIVERED


async def test_with_the_rule_a_pickup_order_without_ship_to_is_cancelled_by_policy(
        omniroute_worker: RunningWorker) -> None:
    w = omniroute_worker
    w.store.set_rules(parse_rules(PICKUP_FALLBACK_SHIP_RULES))
    order_id, workflow_id = await _rejected_at_the_store(w, "SKU-FN", None)

    final = await w.temporal.get_workflow_handle(workflow_id, result_type=OrderView).result()

    assert final.status is OrderStatus.CANCELLED and len(final.shipments) == 1
    assert final.lines[0].status is LineStatus.CANCELLED
    assert (await w.sdk.get_order(order_id)).shipments[0].node_id == "store-chi"


async def test_without_the_rule_the_dc_is_never_asked_to_ship_a_pickup(omniroute_worker: RunningWorker) -> None:
    w = omniroute_worker
    _order_id, workflow_id = await _rejected_at_the_store(w, "SKU-FD", CHICAGO)

    final = await w.temporal.get_workflow_handle(workflow_id, result_type=OrderView).result()

    assert final.status is OrderStatus.CANCELLED and [s.node_id for s in final.shipments] == ["store-chi"]
