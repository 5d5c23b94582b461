"""The ATP snapshot decisions start from, the backordered orders due again, and a waiting order as a wave sees it."""

from __future__ import annotations

from datetime import UTC, datetime

from models.address import Address
from models.inventory import InventoryPosition
from models.order import Customer, OrderLineIn, OrderStatus
from models.records import OrderRecord, ShipmentRecord
from models.shipment import ShipmentLine, ShipmentState
from sourcing.stock import add_stock, atp_at, orders_with_stock_back
from sourcing.waves import waiting_order

CHICAGO = Address(name="Ada", line1="1 Main St", city="Chicago", latitude=41.88, longitude=-87.63)


def position(node_id: str, sku: str, on_hand: int, reserved: int = 0) -> InventoryPosition:
    return InventoryPosition(node_id=node_id, sku=sku, on_hand=on_hand, reserved=reserved)


def test_the_snapshot_keeps_only_units_to_promise_at_the_given_nodes() -> None:
    positions = [position("dc-1", "TEE", 5, 2), position("dc-1", "MUG", 3, 3), position("store-1", "TEE", 9)]

    assert atp_at(positions, {"dc-1"}) == {"dc-1": {"TEE": 3}}


def test_an_order_is_due_when_any_sku_it_waits_for_is_back_somewhere() -> None:
    waiting = [("o-1", "order-o-1", ["TEE", "CAP"]), ("o-2", "order-o-2", ["MUG"]), ("o-3", "order-o-3", ["CAP"])]

    assert orders_with_stock_back(waiting, {"dc-1": {"TEE": 1}, "dc-2": {"CAP": 4}}) == ["order-o-1", "order-o-3"]


def test_stock_added_to_a_pool_sums_per_node_and_sku() -> None:
    pool = {"dc-1": {"TEE": 1}}
    add_stock(pool, {"dc-1": {"TEE": 2, "MUG": 1}, "dc-2": {"TEE": 4}})

    assert pool == {"dc-1": {"TEE": 3, "MUG": 1}, "dc-2": {"TEE": 4}}


def record() -> OrderRecord:
    return OrderRecord(order_id="o-1", workflow_id="order-o-1", channel="web", channel_order_id="1",
                       status=OrderStatus.FULFILLING, currency="USD", customer=Customer(email="a@b.co", name="A"),
                       ship_to=CHICAGO, lines=[OrderLineIn(sku="TEE", quantity=3, unit_price=100)],
                       created_at=datetime(2026, 1, 1, tzinfo=UTC))


def shipment(number: int, node_id: str, quantity: int, state: ShipmentState) -> ShipmentRecord:
    return ShipmentRecord(shipment_id=f"o-1-S{number}", order_id="o-1", node_id=node_id, state=state,
                          lines=[ShipmentLine(line_no=1, sku="TEE", quantity=quantity)])


def test_a_wave_sees_a_split_order_as_one_line_held_at_two_nodes() -> None:
    found = waiting_order(record(), [shipment(1, "dc-1", 1, ShipmentState.PENDING),
                                     shipment(2, "dc-2", 2, ShipmentState.PENDING),
                                     shipment(3, "dc-3", 3, ShipmentState.CANCELLED)])

    assert found is not None
    assert [(line.sku, line.quantity) for line in found.lines] == [("TEE", 3)]
    assert sorted((a.node_id, a.quantity) for a in found.current) == [("dc-1", 1), ("dc-2", 2)]


def test_a_wave_leaves_alone_an_order_whose_shipment_has_been_released_or_that_has_none_live() -> None:
    assert waiting_order(record(), [shipment(1, "dc-1", 1, ShipmentState.PENDING),
                                    shipment(2, "dc-2", 2, ShipmentState.RELEASED)]) is None
    assert waiting_order(record(), [shipment(1, "dc-1", 3, ShipmentState.CANCELLED)]) is None
