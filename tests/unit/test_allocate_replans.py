"""The allocate step when stock moves between its ATP snapshot and its reservation (fakes, no database)."""

from __future__ import annotations

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.inventory import MAX_PLAN_ATTEMPTS, InventoryActivities
from activities.sourcing import SourcingConfigCache
from models.address import Address
from models.commands import AllocateStock
from models.network import Node, NodeKind
from models.shipment import ShipmentLine
from tests.fixtures.fakes import FakeLedger, FakeNetwork, FakeOrderRecords, FakeSourcingDocuments

CHICAGO = Address(name="Ada", line1="1 Main St", city="Chicago", latitude=41.88, longitude=-87.63)


def node_at(node_id: str, degrees_west_of_chicago: float) -> Node:
    return Node(node_id=node_id, name=node_id, kind=NodeKind.DC, latitude=41.88,
                longitude=-87.63 - degrees_west_of_chicago)


def inventory(ledger: FakeLedger, nodes: list[Node]) -> InventoryActivities:
    """No cost model is stored, so every plan is nearest-first."""
    return InventoryActivities(ledger=ledger, network=FakeNetwork(nodes), orders=FakeOrderRecords(),
                               sourcing=SourcingConfigCache(FakeSourcingDocuments()))


def order(units: int) -> AllocateStock:
    return AllocateStock(order_id="o-1", ship_to=CHICAGO, lines=[ShipmentLine(line_no=1, sku="TEE", quantity=units)])


def test_units_another_order_took_meanwhile_make_it_plan_again_from_the_stock_left() -> None:
    ledger = FakeLedger()
    ledger.stock("dc-near", "TEE", 2)
    ledger.stock("dc-far", "TEE", 5)
    ledger.another_order_takes(("dc-near", "TEE", 2))
    activities = inventory(ledger, [node_at("dc-near", 0.5), node_at("dc-far", 20)])

    allocated = ActivityEnvironment().run(activities.allocate, order(2))

    assert allocated.attempts == 2
    assert [(s.node_id, s.lines[0].quantity) for s in allocated.plan.shipments] == [("dc-far", 2)]
    assert allocated.reservation_keys == {"o-1-S1": ["o-1-S1:TEE"]}
    assert [(r.node_id, r.quantity) for r in ledger.reservations("o-1")] == [("dc-far", 2)]


def test_a_plan_reserved_at_the_first_try_reports_one_attempt() -> None:
    ledger = FakeLedger()
    ledger.stock("dc-near", "TEE", 2)
    activities = inventory(ledger, [node_at("dc-near", 0.5)])

    allocated = ActivityEnvironment().run(activities.allocate, order(2))

    assert (allocated.attempts, ledger.reserve_calls) == (1, 1)
    assert ledger.active_keys("o-1") == {"o-1-S1:TEE"}


def test_losing_every_race_raises_a_retryable_stock_contention_and_reserves_nothing() -> None:
    ledger = FakeLedger()
    nodes = [node_at(f"dc-{n}", n) for n in range(1, MAX_PLAN_ATTEMPTS + 2)]
    for node in nodes:
        ledger.stock(node.node_id, "TEE", 1)
    for node in nodes[:MAX_PLAN_ATTEMPTS]:  # each attempt's nearest unit goes to another order first
        ledger.another_order_takes((node.node_id, "TEE", 1))
    activities = inventory(ledger, nodes)

    with pytest.raises(ApplicationError) as raised:
        ActivityEnvironment().run(activities.allocate, order(1))

    assert raised.value.type == "StockContention" and not raised.value.non_retryable
    assert ledger.reserve_calls == MAX_PLAN_ATTEMPTS
    assert ledger.reservations("o-1") == []
    assert {p.node_id: p.atp for p in ledger.positions(["TEE"])}[nodes[-1].node_id] == 1, "the last unit is left"
