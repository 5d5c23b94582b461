"""The network and the order read model (orders, shipments, returns), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from models.address import Address
from models.network import Capability, Node, NodeKind
from models.order import Customer, OrderLineIn, OrderStatus
from models.records import OrderRecord, ReturnRecord, ShipmentRecord
from models.returns import ReturnLine, ReturnStatus
from models.shipment import ShipmentLine, ShipmentState
from store import Store, UnknownOrderError

CREATED = datetime(2025, 3, 1, 12, 30, tzinfo=UTC)


def an_order(order_id: str = "web-1001", status: OrderStatus = OrderStatus.RECEIVED) -> OrderRecord:
    return OrderRecord(
        order_id=order_id,
        workflow_id=f"order-{order_id}",
        channel="web",
        channel_order_id=order_id.removeprefix("web-"),
        status=status,
        currency="USD",
        customer=Customer(email="ada@example.com", name="Ada Lovelace"),
        ship_to=Address(name="Ada Lovelace", line1="1 Main St", city="Chicago", region="IL", postal_code="60601"),
        lines=[
            OrderLineIn(sku="SKU-1", quantity=2, unit_price=1999),
            OrderLineIn(sku="SKU-2", quantity=1, unit_price=500),
        ],
        created_at=CREATED,
    )


def a_shipment(shipment_id: str, order_id: str = "web-1001", **fields: object) -> ShipmentRecord:
    values: dict[str, object] = {
        "shipment_id": shipment_id,
        "order_id": order_id,
        "node_id": "dc-a",
        "lines": [ShipmentLine(line_no=1, sku="SKU-1", quantity=2)],
        "state": ShipmentState.RELEASED,
    }
    return ShipmentRecord.model_validate(values | fields)


def a_return(rma: str, status: ReturnStatus, lines: dict[str, int], order_id: str = "web-1001") -> ReturnRecord:
    return ReturnRecord(
        rma=rma,
        order_id=order_id,
        status=status,
        lines=[ReturnLine(sku=sku, quantity=quantity) for sku, quantity in lines.items()],
        reason="too small",
        created_at=CREATED,
    )


def test_a_node_round_trips_and_an_upsert_replaces_it(store: Store) -> None:
    node = Node(
        node_id="store-chi-1",
        name="Chicago Loop",
        kind=NodeKind.STORE,
        line1="1 State St",
        city="Chicago",
        region="IL",
        postal_code="60602",
        latitude=41.88,
        longitude=-87.63,
        capabilities=[Capability.SHIP, Capability.PICKUP],
    )
    assert store.upsert_node(node) == node
    closed = node.model_copy(update={"active": False, "capabilities": [Capability.RETURNS]})
    store.upsert_node(closed)
    store.upsert_node(Node(node_id="dc-a", name="DC A", kind=NodeKind.DC, postal_code="10001"))

    assert store.get_node("store-chi-1") == closed
    assert store.get_node("nowhere") is None
    assert [n.node_id for n in store.list_nodes()] == ["dc-a", "store-chi-1"]


def test_an_order_is_recorded_once(store: Store) -> None:
    order = an_order()
    assert store.record_order(order) is True
    assert store.record_order(order.model_copy(update={"status": OrderStatus.FAILED})) is False

    stored = store.get_order("web-1001")
    assert stored == order
    assert stored is not None and stored.created_at.tzinfo is not None
    assert store.get_order("web-404") is None


def test_an_order_status_moves_and_an_unknown_order_is_an_error(store: Store) -> None:
    store.record_order(an_order())
    store.set_order_status("web-1001", OrderStatus.SHIPPED)

    stored = store.get_order("web-1001")
    assert stored is not None and stored.status is OrderStatus.SHIPPED
    with pytest.raises(UnknownOrderError, match="web-404"):
        store.set_order_status("web-404", OrderStatus.CANCELLED)


def test_a_shipment_upsert_replaces_every_field(store: Store) -> None:
    store.record_shipment(a_shipment("web-1001-s2"))
    store.record_shipment(a_shipment("web-1001-s1"))
    shipped_at = datetime(2025, 3, 2, 9, 0, tzinfo=timezone(timedelta(hours=-6)))
    shipped = a_shipment(
        "web-1001-s1",
        state=ShipmentState.SHIPPED,
        carrier="USPS",
        service="Priority",
        tracking_number="9400100000000000000001",
        carrier_shipment_id="shp_123",
        label_cost=735,
        currency="USD",
        shipped_at=shipped_at,
    )
    store.record_shipment(shipped)
    store.record_shipment(a_shipment("other-1-s1", order_id="other-1"))

    stored = store.get_shipment("web-1001-s1")
    assert stored == shipped
    assert stored is not None and stored.shipped_at is not None
    assert stored.shipped_at.tzinfo == UTC and stored.shipped_at == shipped_at
    assert store.find_shipment_by_tracking("9400100000000000000001") == shipped
    assert store.find_shipment_by_tracking("unknown") is None
    assert [s.shipment_id for s in store.shipments_for_order("web-1001")] == ["web-1001-s1", "web-1001-s2"]
    assert store.get_shipment("nope") is None


def test_a_return_upsert_replaces_it(store: Store) -> None:
    store.record_return(a_return("RMA-1", ReturnStatus.REQUESTED, {"SKU-1": 1}))
    received = a_return("RMA-1", ReturnStatus.RECEIVED, {"SKU-1": 1}).model_copy(
        update={"return_node_id": "dc-a", "refund_amount": 1999, "currency": "USD", "received_at": CREATED}
    )
    store.record_return(received)

    assert store.get_return("RMA-1") == received
    assert store.get_return("RMA-404") is None


def test_returned_quantities_count_live_returns_only(store: Store) -> None:
    store.record_return(a_return("RMA-1", ReturnStatus.COMPLETED, {"SKU-1": 1, "SKU-2": 1}))
    store.record_return(a_return("RMA-2", ReturnStatus.AWAITING_RECEIPT, {"SKU-1": 1}))
    store.record_return(a_return("RMA-3", ReturnStatus.REJECTED, {"SKU-1": 5}))
    store.record_return(a_return("RMA-4", ReturnStatus.EXPIRED, {"SKU-2": 5}))
    store.record_return(a_return("RMA-5", ReturnStatus.REQUESTED, {"SKU-1": 7}, order_id="web-other"))

    assert store.returned_quantities("web-1001") == {"SKU-1": 2, "SKU-2": 1}
    assert store.returned_quantities("web-1001", exclude_rma="RMA-2") == {"SKU-1": 1, "SKU-2": 1}
    assert store.returned_quantities("web-none") == {}
