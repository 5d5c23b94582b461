"""The allocate step plans an order from what its channel's allocation rule lets it reserve, nearest-first
and cost-optimal alike, so a lack of allowed stock is an unfillable line (fakes, no database)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from temporalio.testing import ActivityEnvironment

from activities.inventory import InventoryActivities
from activities.sourcing import SourcingConfigCache
from models.address import Address
from models.allocation import ChannelAllocation
from models.commands import AllocateStock
from models.inventory import ReservationItem
from models.network import Node, NodeKind
from models.order import Customer, OrderLineIn, OrderStatus, order_id_for
from models.records import OrderRecord
from models.shipment import ShipmentLine
from tests.fixtures.fakes import FakeLedger, FakeNetwork, FakeOrderRecords, FakeSourcingDocuments
from tests.fixtures.sourcing import TUESDAY_10AM_CHICAGO, cost_model

CHICAGO = Address(name="Ada", line1="1 Main St", city="Chicago", latitude=41.88, longitude=-87.63)
MARKETPLACE = "marketplace"


def node_at(node_id: str, degrees_west_of_chicago: float, kind: NodeKind = NodeKind.DC) -> Node:
    return Node(node_id=node_id, name=node_id, kind=kind, latitude=41.88, longitude=-87.63 - degrees_west_of_chicago)


NODES = [node_at("dc-near", 0.5), node_at("dc-far", 20), node_at("store-near", 0.2, NodeKind.STORE)]


@pytest.fixture(params=["nearest", "cost-optimal"])
def planner(request: pytest.FixtureRequest) -> str:
    return str(request.param)


class Allocating:
    """20 TEE at each of NODES; the marketplace sees a quarter of each node's ATP."""

    def __init__(self, planner: str) -> None:
        self.ledger = FakeLedger()
        for node in NODES:
            self.ledger.stock(node.node_id, "TEE", 20, kind=node.kind)
        self.ledger.allocate(MARKETPLACE, ChannelAllocation(percent=25))
        self.orders = FakeOrderRecords()
        documents = FakeSourcingDocuments()
        if planner == "cost-optimal":
            documents.set_cost_model(cost_model())
        self.activities = InventoryActivities(ledger=self.ledger, network=FakeNetwork(NODES), orders=self.orders,
                                              sourcing=SourcingConfigCache(documents),
                                              clock=lambda: TUESDAY_10AM_CHICAGO)

    def allocate(self, channel: str, units: int, order_no: str = "A-1") -> tuple[str, dict[str, int], int]:
        """The order's id, the units planned per node and the units left unfillable."""
        order_id = order_id_for(channel, order_no)
        self.orders.record_order(OrderRecord(
            order_id=order_id, workflow_id=f"order-{order_id}", channel=channel, channel_order_id=order_no,
            status=OrderStatus.RECEIVED, currency="USD", customer=Customer(email="ada@example.com", name="Ada"),
            ship_to=CHICAGO, lines=[OrderLineIn(sku="TEE", quantity=units, unit_price=1000)],
            created_at=datetime.now(UTC)))
        allocated = ActivityEnvironment().run(self.activities.allocate, AllocateStock(
            order_id=order_id, ship_to=CHICAGO, lines=[ShipmentLine(line_no=1, sku="TEE", quantity=units)]))
        assert allocated.attempts == 1, "the plan is one the ledger accepts"
        planned = {s.node_id: sum(line.quantity for line in s.lines) for s in allocated.plan.shipments}
        reserved = {r.node_id: r.quantity for r in self.ledger.reservations(order_id)}
        assert reserved == planned
        self.explanation = allocated.plan.explanation
        return order_id, planned, sum(u.quantity for u in allocated.plan.unfillable)


def test_a_marketplace_order_for_8_plans_at_most_5_at_a_node_and_the_rest_where_its_share_allows(planner: str) -> None:
    allocating = Allocating(planner)
    allocating.ledger.allocate(MARKETPLACE, ChannelAllocation(percent=25, hidden_node_kinds=[NodeKind.STORE]))

    _, planned, unfillable = allocating.allocate(MARKETPLACE, 8)

    assert set(planned) == {"dc-near", "dc-far"} and max(planned.values()) == 5, "5 at most at either DC"
    assert sum(planned.values()) == 8 and unfillable == 0
    assert any("planned within the allocation rule" in line and "25%" in line for line in allocating.explanation)


def test_what_no_node_lets_the_channel_reserve_is_unfillable_not_an_error(planner: str) -> None:
    allocating = Allocating(planner)
    allocating.ledger.allocate(MARKETPLACE, ChannelAllocation(percent=25, only_nodes=["dc-near"]))

    _, planned, unfillable = allocating.allocate(MARKETPLACE, 8)

    assert planned == {"dc-near": 5} and unfillable == 3


def test_the_channels_open_reservations_count_against_what_the_next_order_may_plan(planner: str) -> None:
    allocating = Allocating(planner)
    allocating.ledger.allocate(MARKETPLACE, ChannelAllocation(percent=25, only_nodes=["dc-near"]))
    earlier = allocating.ledger.reserve(
        [ReservationItem(key="marketplace-A-0-S1:TEE", node_id="dc-near", sku="TEE", quantity=4)],
        order_id="marketplace-A-0", expires_at=None, source="test")
    assert earlier.ok

    _, planned, unfillable = allocating.allocate(MARKETPLACE, 3)

    assert planned == {"dc-near": 1} and unfillable == 2


def test_a_channel_without_a_rule_plans_from_all_the_stock(planner: str) -> None:
    allocating = Allocating(planner)

    _, planned, unfillable = allocating.allocate("web", 20)

    assert sum(planned.values()) == 20 and unfillable == 0
    assert not any("allocation rule" in line for line in allocating.explanation)
