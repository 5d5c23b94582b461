"""An order taking a release wave's plan: its reservations swapped in one transaction, or not at all."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from activities.inventory import InventoryActivities
from activities.sourcing import SourcingConfigCache
from models.commands import SwapReservations
from models.inventory import ReservationItem, ReservationState
from models.plan import FulfillmentPlan, PlannedShipment
from models.rules import RuleOutcome
from models.shipment import ShipmentLine
from store import Store
from tests.fixtures.db import a_node

LINE = ShipmentLine(line_no=1, sku="SKU-W", quantity=1)


def waiting_order(store: Store) -> InventoryActivities:
    """dc-a and dc-b hold one unit each; order o-1 holds dc-a's."""
    for node_id in ("dc-a", "dc-b"):
        store.upsert_node(a_node(node_id))
        store.set_on_hand(node_id, "SKU-W", 1, source="test")
    held = store.reserve([ReservationItem(key="o-1-S1:SKU-W", node_id="dc-a", sku="SKU-W", quantity=1)],
                         order_id="o-1", expires_at=datetime.now(UTC) + timedelta(hours=1), source="test")
    assert held.ok
    return InventoryActivities(ledger=store, network=store, orders=store, sourcing=SourcingConfigCache(store))


def to(*node_ids: str, rules: RuleOutcome | None = None) -> SwapReservations:
    plan = FulfillmentPlan(shipments=[PlannedShipment(node_id=n, lines=[LINE], distance_km=10.0) for n in node_ids])
    return SwapReservations(order_id="o-1", release_keys=["o-1-S1:SKU-W"], plan=plan, first_shipment_no=2,
                            rules=rules, reason="re-planned in wave-1")


def states(store: Store) -> dict[str, ReservationState]:
    return {r.key: r.state for r in store.reservations("o-1")}


def test_the_swap_releases_the_old_unit_and_reserves_the_new_one_once(store: Store) -> None:
    activities = waiting_order(store)

    first = activities.swap(to("dc-b"))
    again = activities.swap(to("dc-b"))  # a retried activity

    assert first.ok and first.shipment_ids == ["o-1-S2"] and first.reservation_keys == {"o-1-S2": ["o-1-S2:SKU-W"]}
    assert again.ok and again.shipment_ids == first.shipment_ids
    assert states(store) == {"o-1-S1:SKU-W": ReservationState.RELEASED, "o-1-S2:SKU-W": ReservationState.ACTIVE}
    by_node = {n.node_id: n.atp for n in store.availability("SKU-W").nodes}
    assert by_node == {"dc-a": 1, "dc-b": 0}


def test_when_the_new_units_were_taken_meanwhile_nothing_changes(store: Store) -> None:
    activities = waiting_order(store)
    taken = store.reserve([ReservationItem(key="o-2-S1:SKU-W", node_id="dc-b", sku="SKU-W", quantity=1)],
                          order_id="o-2", expires_at=None, source="test")
    assert taken.ok

    result = activities.swap(to("dc-b"))

    assert not result.ok and "stock moved" in result.reason and "dc-b/SKU-W 0 of 1" in result.reason
    assert states(store) == {"o-1-S1:SKU-W": ReservationState.ACTIVE}, "the old unit is still held"
    assert {n.node_id: n.atp for n in store.availability("SKU-W").nodes} == {"dc-a": 0, "dc-b": 0}


def test_a_plan_the_orders_rules_forbid_is_refused_before_anything_is_written(store: Store) -> None:
    activities = waiting_order(store)

    result = activities.swap(to("dc-a", "dc-b", rules=RuleOutcome(ship_complete=True)))

    assert not result.ok and "at most 1 shipment" in result.reason
    assert states(store) == {"o-1-S1:SKU-W": ReservationState.ACTIVE}
