"""The benchmark's warehouse reads released shipments from the read model."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from models.address import Address
from models.order import Customer, OrderLineIn, OrderStatus
from models.records import OrderRecord, ShipmentRecord
from models.shipment import ShipmentLine, ShipmentState
from omniroute.bench.kit.db_port import DbOrderReader
from omniroute.demo.api import GatewayError
from store import Store


async def test_the_reader_sees_what_the_order_workflow_recorded(sqlite_store: Store) -> None:
    sqlite_store.record_order(OrderRecord(
        order_id="web-b1", workflow_id="order-web-b1", channel="web", channel_order_id="b1",
        status=OrderStatus.RECEIVED, currency="USD", customer=Customer(email="b@example.com", name="B"),
        ship_to=Address(name="B", line1="1 St", city="Chicago", postal_code="60601"),
        lines=[OrderLineIn(sku="MUG", quantity=1, unit_price=1600)], created_at=datetime.now(UTC)))
    sqlite_store.set_order_status("web-b1", OrderStatus.FULFILLING)
    sqlite_store.record_shipment(ShipmentRecord(
        shipment_id="web-b1-S1", order_id="web-b1", node_id="dc-il", state=ShipmentState.RELEASED,
        lines=[ShipmentLine(line_no=1, sku="MUG", quantity=1)], label_cost=812, currency="USD"))

    snapshot = await DbOrderReader(sqlite_store).order("web-b1")

    assert snapshot.status is OrderStatus.FULFILLING
    [shipment] = snapshot.shipments
    assert (shipment.shipment_id, shipment.state, shipment.label_cost) == ("web-b1-S1", ShipmentState.RELEASED, 812)


async def test_an_order_not_yet_recorded_is_asked_for_again(sqlite_store: Store) -> None:
    with pytest.raises(GatewayError) as caught:
        await DbOrderReader(sqlite_store).order("web-missing")
    assert caught.value.status == 503
