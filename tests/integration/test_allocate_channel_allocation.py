"""The allocate step and a wave's swap against the real ledger on SQLite and PostgreSQL: the planner's
view of a channel's allocation is the one the ledger holds the reservation to."""

from __future__ import annotations

from temporalio.testing import ActivityEnvironment

from activities.inventory import InventoryActivities
from activities.sourcing import SourcingConfigCache
from models.address import Address
from models.allocation import ChannelAllocation
from models.commands import AllocateStock, SwapReservations
from models.inventory import ReservationItem
from models.network import NodeKind
from models.plan import FulfillmentPlan, PlannedShipment
from models.shipment import ShipmentLine
from store import Store
from tests.fixtures.network import add_node

CHICAGO = Address(name="Ada", line1="1 Main St", city="Chicago", latitude=41.88, longitude=-87.63)


def network(store: Store) -> InventoryActivities:
    """20 TEE at dc-il (Chicago), dc-ca (far west) and store-il (Chicago); the marketplace sees a quarter
    of each node's ATP and no store. No cost model: plans are nearest-first."""
    add_node(store, "dc-il", None, latitude=41.9, longitude=-87.7)
    add_node(store, "dc-ca", None, latitude=34.0, longitude=-118.2)
    add_node(store, "store-il", None, kind=NodeKind.STORE, latitude=41.88, longitude=-87.63)
    for node_id in ("dc-il", "dc-ca", "store-il"):
        store.set_on_hand(node_id, "TEE", 20, source="wms")
    store.set_channel_allocation("marketplace", ChannelAllocation(percent=25, hidden_node_kinds=[NodeKind.STORE]))
    return InventoryActivities(ledger=store, network=store, orders=store, sourcing=SourcingConfigCache(store))


def allocate(activities: InventoryActivities, order_id: str, units: int) -> dict[str, int]:
    allocated = ActivityEnvironment().run(activities.allocate, AllocateStock(
        order_id=order_id, ship_to=CHICAGO, lines=[ShipmentLine(line_no=1, sku="TEE", quantity=units)]))
    assert allocated.attempts == 1, "the ledger takes the plan at the first try"
    assert sum(u.quantity for u in allocated.plan.unfillable) == units - sum(
        line.quantity for s in allocated.plan.shipments for line in s.lines)
    return {s.node_id: s.lines[0].quantity for s in allocated.plan.shipments}


def test_a_marketplace_order_reserves_its_share_nearby_and_the_rest_further_off(store: Store) -> None:
    activities = network(store)

    assert allocate(activities, "marketplace-A-1", 8) == {"dc-il": 5, "dc-ca": 3}
    assert allocate(activities, "marketplace-A-2", 8) == {"dc-ca": 2}, "6 unfillable: the share is used up"
    assert allocate(activities, "web-W-1", 20) == {"store-il": 20}, "web sees the store the marketplace may not"

    reserved = store.channel_reserved("marketplace", ["TEE"])
    assert reserved == {("dc-il", "TEE"): 5, ("dc-ca", "TEE"): 5}


def test_a_wave_plan_onto_a_node_hidden_from_the_channel_is_refused(store: Store) -> None:
    activities = network(store)
    assert allocate(activities, "marketplace-A-1", 1) == {"dc-il": 1}
    line = ShipmentLine(line_no=1, sku="TEE", quantity=1)
    to_the_store = FulfillmentPlan(shipments=[PlannedShipment(node_id="store-il", lines=[line], distance_km=1.0)])

    swapped = activities.swap(SwapReservations(
        order_id="marketplace-A-1", release_keys=["marketplace-A-1-S1:TEE"], plan=to_the_store,
        first_shipment_no=2, reason="re-planned in wave-1"))

    assert not swapped.ok and "store-il/TEE 0 of 1" in swapped.reason
    assert [(r.key, r.state.value) for r in store.reservations("marketplace-A-1")] == [
        ("marketplace-A-1-S1:TEE", "active")]
    assert store.reserve([ReservationItem(key="x", node_id="store-il", sku="TEE", quantity=1)],
                         order_id="web-W-9", expires_at=None, source="test").ok
