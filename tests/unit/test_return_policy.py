"""Whether a return is accepted, what it refunds and where the goods go back (sourcing.returns), and the
activity that loads the facts for it from the read model (fakes, no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from activities.records import RecordActivities
from models.address import Address
from models.commands import LoadReturnContext, ReturnContext
from models.money import Money
from models.network import Capability, Node, NodeKind
from models.order import Customer, OrderLineIn, OrderStatus
from models.records import OrderRecord, ReturnRecord, ShipmentRecord
from models.returns import ReturnLine, ReturnPolicy, ReturnStatus
from models.shipment import ShipmentLine, ShipmentState
from sourcing.returns import check_return, return_node
from tests.fixtures.fakes import FakeNetwork, FakeOrderRecords

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
POLICY = ReturnPolicy(window_days=30, label_expiry_days=14)
CHICAGO = Address(name="Ada", line1="1 Main St", city="Chicago", latitude=41.88, longitude=-87.63)
NOWHERE = Address(name="Ada", line1="1 Main St", city="Atlantis", postal_code="00000")


def node(node_id: str, longitude: float, *capabilities: Capability) -> Node:
    return Node(node_id=node_id, name=node_id, kind=NodeKind.DC, latitude=41.88, longitude=longitude,
                capabilities=list(capabilities) or [Capability.SHIP, Capability.RETURNS])


NODES = [node("dc-west", -118.0), node("dc-chicago-ship-only", -87.7, Capability.SHIP), node("dc-ohio", -83.0)]


def order(ship_to: Address = CHICAGO) -> OrderRecord:
    return OrderRecord(order_id="o-1", workflow_id="order-o-1", channel="web", channel_order_id="1",
                       status=OrderStatus.COMPLETED, currency="USD", customer=Customer(email="ada@example.com",
                                                                                       name="Ada"),
                       ship_to=ship_to, created_at=NOW - timedelta(days=20),
                       lines=[OrderLineIn(sku="TEE", quantity=3, unit_price=1500),
                              OrderLineIn(sku="MUG", quantity=1, unit_price=900)])


def delivered(days_ago: int, *lines: tuple[str, int], shipment_id: str = "o-1-S1") -> ShipmentRecord:
    return ShipmentRecord(shipment_id=shipment_id, order_id="o-1", node_id="dc-ohio", state=ShipmentState.DELIVERED,
                          delivered_at=NOW - timedelta(days=days_ago),
                          lines=[ShipmentLine(line_no=n, sku=sku, quantity=q) for n, (sku, q) in enumerate(lines, 1)])


def asking(*lines: tuple[str, int]) -> LoadReturnContext:
    return LoadReturnContext(rma="RMA-1", order_id="o-1", lines=[ReturnLine(sku=s, quantity=q) for s, q in lines])


def check(request: LoadReturnContext, shipments: list[ShipmentRecord], returned: dict[str, int] | None = None,
          ship_to: Address = CHICAGO) -> ReturnContext:
    return check_return(request, order(ship_to), shipments=shipments, returned=returned or {}, nodes=NODES,
                        policy=POLICY, now=NOW)


def test_a_return_inside_the_window_is_refunded_at_the_order_prices_and_goes_to_the_nearest_returns_node() -> None:
    context = check(asking(("TEE", 2), ("MUG", 1)), [delivered(10, ("TEE", 3), ("MUG", 1))])

    assert context.rejection is None
    assert context.refund == Money(amount=2 * 1500 + 900, currency="USD")
    assert context.return_node_id == "dc-ohio", "the nearer node ships only: it takes no returns"
    assert context.label_expiry_days == 14


def test_a_return_after_the_window_is_rejected_naming_the_line_and_the_window() -> None:
    context = check(asking(("TEE", 1)), [delivered(31, ("TEE", 3))])

    assert context.rejection is not None and context.rejection.startswith("TEE: delivered")
    assert "outside the 30-day return window" in context.rejection
    assert context.refund is None and context.return_node_id is None


def test_the_window_counts_from_the_latest_delivery_of_the_sku() -> None:
    shipments = [delivered(40, ("TEE", 1)), delivered(5, ("TEE", 2), shipment_id="o-1-S2")]

    assert check(asking(("TEE", 1)), shipments).rejection is None


def test_more_units_than_were_delivered_are_rejected() -> None:
    undelivered = delivered(3, ("TEE", 2)).model_copy(update={"state": ShipmentState.SHIPPED, "shipment_id": "o-1-S2"})

    context = check(asking(("TEE", 3)), [delivered(3, ("TEE", 1)), undelivered])

    assert context.rejection == "TEE: 3 requested, only 1 delivered and not yet returned"


def test_units_already_returned_cannot_be_returned_again() -> None:
    context = check(asking(("TEE", 2)), [delivered(3, ("TEE", 3))], returned={"TEE": 2})

    assert context.rejection == "TEE: 2 requested, only 1 delivered and not yet returned"


def test_an_unlocatable_delivery_address_sends_the_goods_to_the_first_located_returns_node() -> None:
    assert return_node(NOWHERE, NODES) == "dc-west"
    assert return_node(NOWHERE, [node("dc-ship-only", -90.0, Capability.SHIP)]) is None


def test_the_activity_loads_the_order_its_deliveries_and_earlier_returns_from_the_read_model() -> None:
    records = FakeOrderRecords()
    records.record_order(order())
    records.record_shipment(delivered(3, ("TEE", 3)))
    records.record_return(ReturnRecord(rma="RMA-0", order_id="o-1", status=ReturnStatus.COMPLETED, reason="size",
                                       lines=[ReturnLine(sku="TEE", quantity=1)], created_at=NOW))
    records.record_return(ReturnRecord(rma="RMA-X", order_id="o-1", status=ReturnStatus.REJECTED, reason="late",
                                       lines=[ReturnLine(sku="TEE", quantity=2)], created_at=NOW))
    activities = RecordActivities(orders=records, network=FakeNetwork(NODES), policy=POLICY, clock=lambda: NOW)

    accepted = activities.load_return_context(asking(("TEE", 2)))
    too_many = activities.load_return_context(asking(("TEE", 3)))
    unknown = activities.load_return_context(asking(("TEE", 1)).model_copy(update={"order_id": "o-404"}))

    assert accepted.rejection is None and accepted.refund == Money(amount=3000, currency="USD")
    assert accepted.return_node_id == "dc-ohio"
    assert too_many.rejection == "TEE: 3 requested, only 2 delivered and not yet returned"
    assert unknown.order is None and unknown.rejection == "unknown order o-404"
