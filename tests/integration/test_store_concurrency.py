"""No oversell under concurrency: racing reservations on SQLite and PostgreSQL.

Each racer has its own Store (its own engine and connections), as the worker and the gateway do.
"""

from __future__ import annotations

from models.inventory import ReservationItem, ReservationState
from store import Store
from tests.fixtures.concurrency import race
from tests.fixtures.db import a_node

RACERS = 12
# node -> (on_hand, safety_stock): 2 + 3 + 3 = 8 units may be promised, fewer than there are racers.
STOCK = {"dc-a": (2, 0), "dc-b": (3, 0), "dc-c": (5, 2)}


def test_racing_reservations_never_oversell(store: Store, database_url: str) -> None:
    for node_id, (on_hand, safety_stock) in STOCK.items():
        store.upsert_node(a_node(node_id))
        store.set_on_hand(node_id, "SKU-HOT", on_hand, source="wms")
        store.set_safety_stock(node_id, "SKU-HOT", safety_stock, source="planner")
    promisable = sum(on_hand - safety for on_hand, safety in STOCK.values())

    def reserve_one_unit_anywhere(racer_store: Store, number: int) -> str | None:
        nodes = list(STOCK)
        for attempt in range(len(nodes)):
            node_id = nodes[(number + attempt) % len(nodes)]
            key = f"o{number}:{node_id}"
            item = ReservationItem(key=key, node_id=node_id, sku="SKU-HOT", quantity=1)
            if racer_store.reserve([item], order_id=f"o{number}", expires_at=None, source="race").ok:
                return node_id
        return None

    won = [node_id for node_id in race(database_url, RACERS, reserve_one_unit_anywhere) if node_id is not None]

    assert len(won) == promisable
    positions = {p.node_id: p for p in store.positions(["SKU-HOT"])}
    assert sum(p.reserved for p in positions.values()) == promisable
    for node_id, (on_hand, safety_stock) in STOCK.items():
        assert positions[node_id].reserved == on_hand - safety_stock == won.count(node_id)
    assert store.availability("SKU-HOT").total_atp == 0
    replayed = store.replay_positions()
    assert {key: value for key, value in replayed.items() if key[1] == "SKU-HOT"} == {
        (p.node_id, p.sku): (p.on_hand, p.reserved) for p in positions.values()
    }


def test_racing_the_same_key_reserves_once(store: Store, database_url: str) -> None:
    store.upsert_node(a_node("dc-a"))
    store.set_on_hand("dc-a", "SKU-1", 10, source="wms")
    item = ReservationItem(key="o1:line-1", node_id="dc-a", sku="SKU-1", quantity=3)

    results = race(
        database_url,
        8,
        lambda racer_store, _number: racer_store.reserve([item], order_id="o1", expires_at=None, source="retry"),
    )

    assert all(result.ok for result in results)
    (position,) = store.positions(["SKU-1"])
    assert position.reserved == 3
    assert [(v.key, v.quantity) for v in store.reservations("o1")] == [("o1:line-1", 3)]
    assert len([m for m in store.ledger(sku="SKU-1") if m.key == "o1:line-1"]) == 1


def test_racing_commit_and_release_of_one_key_settles_it_once(store: Store, database_url: str) -> None:
    store.upsert_node(a_node("dc-a"))
    store.set_on_hand("dc-a", "SKU-1", 4, source="wms")
    store.reserve(
        [ReservationItem(key="k", node_id="dc-a", sku="SKU-1", quantity=4)], order_id="o1", expires_at=None, source="t"
    )

    def settle(racer_store: Store, number: int) -> None:
        if number % 2:
            racer_store.commit(["k"], source="ship")
        else:
            racer_store.release(["k"], source="cancel", reason="cancelled")

    race(database_url, 8, settle)

    (view,) = store.reservations("o1")
    (position,) = store.positions(["SKU-1"])
    expected_on_hand = 0 if view.state is ReservationState.COMMITTED else 4
    assert (position.on_hand, position.reserved) == (expected_on_hand, 0)
    assert store.replay_positions()[("dc-a", "SKU-1")] == (expected_on_hand, 0)


def test_racing_restocks_of_one_key_restock_once(store: Store, database_url: str) -> None:
    store.upsert_node(a_node("dc-a"))

    results = race(
        database_url,
        6,
        lambda racer_store, _number: racer_store.restock(
            "dc-a", "SKU-R", 2, key="rma-7:SKU-R", source="returns", reason="grade A"
        ),
    )

    assert {(p.on_hand, p.reserved) for p in results} == {(2, 0)}
    assert store.replay_positions()[("dc-a", "SKU-R")] == (2, 0)
