"""A channel's allocation rule bounds its reservations in the ledger, not only what availability shows it:
the share, the buffer, hidden and only-listed nodes, on SQLite and PostgreSQL, racing or not."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import TypeVar

import pytest
import sqlalchemy as sa

from models.allocation import ChannelAllocation
from models.inventory import ReservationItem, ReservationState, Shortfall
from models.network import NodeKind
from models.order import order_id_for
from store import Store
from store.engine import Database, create_store_engine
from store.tables import inventory_positions, reservations
from tests.fixtures.concurrency import race
from tests.fixtures.db import a_node

T = TypeVar("T")

MARKETPLACE = "marketplace"
WEB = "web"


@pytest.fixture
def stocked(store: Store) -> Store:
    """20 of SKU-1 at dc-a, dc-b and store-a each; the marketplace sees 25% of each node's ATP (5 of 20)."""
    store.upsert_node(a_node("dc-a"))
    store.upsert_node(a_node("dc-b"))
    store.upsert_node(a_node("store-a", kind=NodeKind.STORE))
    for node_id in ("dc-a", "dc-b", "store-a"):
        store.set_on_hand(node_id, "SKU-1", 20, source="wms")
    store.set_channel_allocation(MARKETPLACE, ChannelAllocation(percent=25))
    return store


def reserve(store: Store, channel: str, order_no: str, *lines: tuple[str, int], sku: str = "SKU-1") -> bool:
    """One order of `channel` reserving (node_id, quantity) of `sku` per line, all or nothing."""
    order_id = order_id_for(channel, order_no)
    items = [ReservationItem(key=f"{order_id}:{node_id}:{sku}", node_id=node_id, sku=sku, quantity=quantity)
             for node_id, quantity in lines]
    return store.reserve(items, order_id=order_id, expires_at=None, source="test").ok


def reserved_at(store: Store, node_id: str) -> int:
    return {p.node_id: p.reserved for p in store.positions(["SKU-1"])}[node_id]


def test_a_marketplace_order_for_8_cannot_reserve_more_than_its_5_at_a_node(stocked: Store) -> None:
    too_many = stocked.reserve([ReservationItem(key="m1:dc-a", node_id="dc-a", sku="SKU-1", quantity=8)],
                               order_id="marketplace-m1", expires_at=None, source="test")

    assert not too_many.ok
    assert too_many.shortfalls == [Shortfall(node_id="dc-a", sku="SKU-1", requested=8, available=5)]
    assert reserved_at(stocked, "dc-a") == 0, "nothing taken"
    assert reserve(stocked, MARKETPLACE, "m2", ("dc-a", 5), ("dc-b", 3))
    assert (reserved_at(stocked, "dc-a"), reserved_at(stocked, "dc-b")) == (5, 3)


def test_the_channels_own_open_reservations_count_against_its_share(stocked: Store) -> None:
    assert reserve(stocked, MARKETPLACE, "m1", ("dc-a", 2))
    assert reserve(stocked, MARKETPLACE, "m2", ("dc-a", 3))

    # 15 ATP left: 25% of that would be 3 more, but the 5 already reserved are the channel's whole share.
    assert not reserve(stocked, MARKETPLACE, "m3", ("dc-a", 1))
    assert stocked.channel_reserved(MARKETPLACE, ["SKU-1"]) == {("dc-a", "SKU-1"): 5}


def test_web_without_a_rule_can_still_reserve_the_rest(stocked: Store) -> None:
    assert reserve(stocked, MARKETPLACE, "m1", ("dc-a", 5))

    assert reserve(stocked, WEB, "w1", ("dc-a", 15))

    assert stocked.availability("SKU-1").nodes[0].atp == 0
    assert not reserve(stocked, MARKETPLACE, "m2", ("dc-a", 1))


def test_other_channels_reservations_shrink_the_share_they_leave(stocked: Store) -> None:
    assert reserve(stocked, WEB, "w1", ("dc-a", 12))

    # 8 ATP left at dc-a: the marketplace's 25% of it is 2.
    assert not reserve(stocked, MARKETPLACE, "m1", ("dc-a", 3))
    assert reserve(stocked, MARKETPLACE, "m2", ("dc-a", 2))


def test_released_and_shipped_units_no_longer_count_against_the_share(stocked: Store) -> None:
    assert reserve(stocked, MARKETPLACE, "m1", ("dc-a", 5))
    stocked.release(["marketplace-m1:dc-a:SKU-1"], source="order", reason="cancelled")
    assert reserve(stocked, MARKETPLACE, "m2", ("dc-a", 5))

    stocked.commit(["marketplace-m2:dc-a:SKU-1"], source="shipment")

    # 15 on hand, nothing open: a quarter of it, rounded down.
    assert not reserve(stocked, MARKETPLACE, "m3", ("dc-a", 4))
    assert reserve(stocked, MARKETPLACE, "m4", ("dc-a", 3))


def test_a_hidden_node_is_never_reserved_for_the_channel(stocked: Store) -> None:
    stocked.set_channel_allocation(MARKETPLACE, ChannelAllocation(hidden_nodes=["dc-b"],
                                                                  hidden_node_kinds=[NodeKind.STORE]))

    assert not reserve(stocked, MARKETPLACE, "m1", ("dc-b", 1))
    assert not reserve(stocked, MARKETPLACE, "m2", ("store-a", 1))
    assert reserve(stocked, MARKETPLACE, "m3", ("dc-a", 20))
    assert reserve(stocked, WEB, "w1", ("dc-b", 1), ("store-a", 1)), "hidden only from the marketplace"


def test_only_listed_nodes_are_reserved_for_the_channel(stocked: Store) -> None:
    stocked.set_channel_allocation(MARKETPLACE, ChannelAllocation(only_node_kinds=[NodeKind.STORE],
                                                                  only_nodes=["dc-b"]))

    assert not reserve(stocked, MARKETPLACE, "m1", ("dc-a", 1))
    assert reserve(stocked, MARKETPLACE, "m2", ("dc-b", 20), ("store-a", 20))


def test_a_buffer_is_held_back_from_the_channel_at_each_node(stocked: Store) -> None:
    stocked.set_channel_allocation(MARKETPLACE, ChannelAllocation(buffer=15))

    assert not reserve(stocked, MARKETPLACE, "m1", ("dc-a", 6))
    assert reserve(stocked, MARKETPLACE, "m2", ("dc-a", 5))
    assert not reserve(stocked, MARKETPLACE, "m3", ("dc-a", 1))
    assert reserve(stocked, WEB, "w1", ("dc-a", 15)), "the buffer is there for the other channels"


def test_safety_stock_comes_off_before_the_share(stocked: Store) -> None:
    stocked.set_safety_stock("dc-a", "SKU-1", 8, source="planner")

    assert not reserve(stocked, MARKETPLACE, "m1", ("dc-a", 4))
    assert reserve(stocked, MARKETPLACE, "m2", ("dc-a", 3))


def test_one_short_item_rolls_the_whole_order_back_and_every_short_item_is_reported(stocked: Store) -> None:
    result = stocked.reserve(
        [ReservationItem(key=f"m1:{node_id}", node_id=node_id, sku="SKU-1", quantity=quantity)
         for node_id, quantity in (("dc-a", 5), ("dc-b", 6), ("store-a", 7))],
        order_id="marketplace-m1", expires_at=None, source="test",
    )

    assert not result.ok
    assert [(s.node_id, s.requested, s.available) for s in result.shortfalls] == [
        ("dc-b", 6, 5), ("store-a", 7, 5)]
    assert stocked.channel_reserved(MARKETPLACE, ["SKU-1"]) == {}


def test_a_key_reserved_before_still_counts_as_reserved_when_the_share_is_used_up(stocked: Store) -> None:
    assert reserve(stocked, MARKETPLACE, "m1", ("dc-a", 5))

    assert reserve(stocked, MARKETPLACE, "m1", ("dc-a", 5)), "a retry of the same reservation"
    assert reserved_at(stocked, "dc-a") == 5


def test_a_swap_counts_the_units_it_releases_towards_the_new_reservations(stocked: Store) -> None:
    assert reserve(stocked, MARKETPLACE, "m1", ("dc-a", 5))

    swapped = stocked.replace_reservations(
        ["marketplace-m1:dc-a:SKU-1"],
        [ReservationItem(key="marketplace-m1-S2:SKU-1", node_id="dc-a", sku="SKU-1", quantity=5)],
        order_id="marketplace-m1", expires_at=None, source="wave", reason="re-planned")

    assert swapped.ok
    assert reserved_at(stocked, "dc-a") == 5


def test_a_changed_rule_bounds_the_very_next_reservation(stocked: Store) -> None:
    assert reserve(stocked, MARKETPLACE, "m1", ("dc-a", 5))
    stocked.set_channel_allocation(MARKETPLACE, ChannelAllocation(percent=50))
    assert reserve(stocked, MARKETPLACE, "m2", ("dc-a", 5))

    stocked.delete_channel_allocation(MARKETPLACE)

    assert reserve(stocked, MARKETPLACE, "m3", ("dc-a", 10)), "no rule: all ATP"


def test_a_channel_whose_name_starts_another_channels_name_keeps_its_own_count(stocked: Store) -> None:
    stocked.set_channel_allocation("market", ChannelAllocation(percent=25))
    assert reserve(stocked, "market_eu", "e1", ("dc-a", 4))
    assert reserve(stocked, MARKETPLACE, "m1", ("dc-a", 4))

    assert stocked.channel_reserved("market", ["SKU-1"]) == {}
    assert reserve(stocked, "market", "k1", ("dc-a", 3)), "a quarter of the 12 left"


RACERS = 12


def connected_first(run: Callable[[Store, int], T]) -> Callable[[Store, int], T]:
    """`run` started by every racer at once only after each has its connection open, so that the
    reservations overlap rather than queue behind the connects."""
    ready = threading.Barrier(RACERS)

    def racer(store: Store, number: int) -> T:
        store.positions(["SKU-1"])
        ready.wait()
        return run(store, number)

    return racer


def test_racing_orders_of_one_channel_never_reserve_past_its_share(stocked: Store, database_url: str) -> None:
    # Without the channel's own reservations counting against its share, 16 would get through (a
    # quarter of the ATP stays at least 1 until 4 are left); without the lock on PostgreSQL, all 12.
    @connected_first
    def one_unit(racer: Store, number: int) -> bool:
        return reserve(racer, MARKETPLACE, f"race-{number}", ("dc-a", 1))

    won = race(database_url, RACERS, one_unit)

    assert won.count(True) == 5
    assert stocked.channel_reserved(MARKETPLACE, ["SKU-1"]) == {("dc-a", "SKU-1"): 5}
    assert reserved_at(stocked, "dc-a") == 5


def test_racing_orders_across_two_nodes_get_both_units_or_neither(stocked: Store, database_url: str) -> None:
    @connected_first
    def one_unit_at_two_nodes(racer: Store, number: int) -> bool:
        return reserve(racer, MARKETPLACE, f"race-{number}", ("dc-a", 1), ("dc-b", 1))

    won = race(database_url, RACERS, one_unit_at_two_nodes)

    assert won.count(True) == 5
    assert stocked.channel_reserved(MARKETPLACE, ["SKU-1"]) == {("dc-a", "SKU-1"): 5, ("dc-b", "SKU-1"): 5}


def test_racing_channels_keep_the_marketplace_within_its_share_and_web_takes_the_rest(
        stocked: Store, database_url: str) -> None:
    stocked.set_channel_allocation(MARKETPLACE, ChannelAllocation(percent=50, buffer=2))

    @connected_first
    def two_units(racer: Store, number: int) -> tuple[str, bool]:
        channel = MARKETPLACE if number % 2 else WEB
        return channel, reserve(racer, channel, f"race-{number}", ("dc-a", 2))

    won = race(database_url, RACERS, two_units)

    marketplace = stocked.channel_reserved(MARKETPLACE, ["SKU-1"]).get(("dc-a", "SKU-1"), 0)
    web = stocked.channel_reserved(WEB, ["SKU-1"]).get(("dc-a", "SKU-1"), 0)
    assert marketplace <= 8, "50% of 20, less the buffer of 2"
    assert (MARKETPLACE, True) in won and web == 2 * won.count((WEB, True)) == 12, "web is never refused"
    assert reserved_at(stocked, "dc-a") == marketplace + web <= 20


def test_a_reservation_behind_another_in_flight_at_its_node_waits_for_it_and_counts_it(
        stocked: Store, database_url: str) -> None:
    """Another marketplace order has taken the channel's whole share at dc-a in a transaction that is
    still open when ours starts: ours must wait for it and then find the share used up, not decide from
    what it saw before that transaction committed."""
    other = Database(create_store_engine(database_url))
    now = datetime.now(UTC)
    try:
        with ThreadPoolExecutor(max_workers=1) as pool:
            with other.write() as connection:
                connection.execute(reservations.insert().values(
                    key="marketplace-first:dc-a", order_id="marketplace-first", node_id="dc-a", sku="SKU-1",
                    quantity=5, state=ReservationState.ACTIVE.value, created_at=now, updated_at=now))
                connection.execute(
                    sa.update(inventory_positions)
                    .where(inventory_positions.c.node_id == "dc-a", inventory_positions.c.sku == "SKU-1")
                    .values(reserved=inventory_positions.c.reserved + 5))
                ours = pool.submit(reserve, stocked, MARKETPLACE, "second", ("dc-a", 1))
                time.sleep(0.5)
                assert not ours.done(), "ours waits while the other transaction holds the position"
            assert ours.result(timeout=30) is False
    finally:
        other.engine.dispose()
    assert reserved_at(stocked, "dc-a") == 5
