"""An order taking a release wave's plan, against fakes of the ledger, the network and the read model."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from activities.inventory import InventoryActivities
from activities.sourcing import SourcingConfigCache
from models.commands import SwapReservations
from models.inventory import ReservationItem
from models.network import Node, NodeKind
from models.plan import FulfillmentPlan, PlannedShipment
from models.rules import NodeSelector, RuleOutcome
from models.shipment import ShipmentLine
from tests.fixtures.fakes import FakeLedger, FakeNetwork, FakeOrderRecords, FakeSourcingDocuments

LINE = ShipmentLine(line_no=1, sku="SKU-W", quantity=1)
HELD = "o-1-S1:SKU-W"


def waiting_order() -> tuple[InventoryActivities, FakeLedger, FakeOrderRecords]:
    """dc-a, dc-b and dc-c hold one unit each; order o-1 holds dc-a's."""
    ledger, orders = FakeLedger(), FakeOrderRecords()
    nodes = [Node(node_id=n, name=n, kind=NodeKind.DC, postal_code="60106") for n in ("dc-a", "dc-b", "dc-c")]
    for node in nodes:
        ledger.stock(node.node_id, "SKU-W", 1)
    held = ledger.reserve([ReservationItem(key=HELD, node_id="dc-a", sku="SKU-W", quantity=1)], order_id="o-1",
                          expires_at=datetime.now(UTC) + timedelta(hours=1), source="test")
    assert held.ok
    activities = InventoryActivities(ledger=ledger, network=FakeNetwork(nodes), orders=orders,
                                     sourcing=SourcingConfigCache(FakeSourcingDocuments()))
    return activities, ledger, orders


def to(*node_ids: str, rules: RuleOutcome | None = None) -> SwapReservations:
    plan = FulfillmentPlan(shipments=[PlannedShipment(node_id=n, lines=[LINE], distance_km=10.0) for n in node_ids])
    return SwapReservations(order_id="o-1", release_keys=[HELD], plan=plan, first_shipment_no=2, rules=rules,
                            reason="re-planned in wave-1")


def test_an_accepted_swap_holds_the_new_unit_releases_the_old_and_ends_the_wait() -> None:
    activities, ledger, orders = waiting_order()

    result = activities.swap(to("dc-b"))

    assert result.ok and result.shipment_ids == ["o-1-S2"] and result.reservation_keys == {"o-1-S2": ["o-1-S2:SKU-W"]}
    assert ledger.active_keys("o-1") == {"o-1-S2:SKU-W"}
    assert {p.node_id: p.atp for p in ledger.positions(["SKU-W"])} == {"dc-a": 1, "dc-b": 0, "dc-c": 1}
    assert orders.release_at == {"o-1": None}, "the order no longer waits for a wave"


def test_a_plan_from_a_node_the_rules_exclude_is_refused_and_nothing_changes() -> None:
    activities, ledger, orders = waiting_order()
    no_dc_b = RuleOutcome(excluded=[NodeSelector(node_ids=["dc-b"])])

    result = activities.swap(to("dc-b", rules=no_dc_b))

    assert not result.ok and "exclude dc-b" in result.reason
    assert ledger.active_keys("o-1") == {HELD}
    assert orders.release_at == {}


def test_a_plan_with_more_shipments_than_the_rules_allow_is_refused_and_nothing_changes() -> None:
    activities, ledger, orders = waiting_order()

    result = activities.swap(to("dc-b", "dc-c", rules=RuleOutcome(max_shipments=1)))

    assert not result.ok and "at most 1 shipment" in result.reason
    assert ledger.active_keys("o-1") == {HELD}
    assert {p.node_id: p.atp for p in ledger.positions(["SKU-W"])} == {"dc-a": 0, "dc-b": 1, "dc-c": 1}


def test_when_another_order_took_the_new_unit_the_swap_is_refused_and_the_old_unit_stays_held() -> None:
    activities, ledger, orders = waiting_order()
    ledger.another_order_takes(("dc-b", "SKU-W", 1))

    result = activities.swap(to("dc-b"))

    assert not result.ok and "stock moved" in result.reason and "dc-b/SKU-W 0 of 1" in result.reason
    assert ledger.active_keys("o-1") == {HELD}
    assert {p.node_id: p.atp for p in ledger.positions(["SKU-W"])} == {"dc-a": 0, "dc-b": 0, "dc-c": 1}
    assert orders.release_at == {}
