"""Safety-stock defaults per node kind and per node: in ATP, in positions, and in the reserve's condition."""

from __future__ import annotations

import pytest

from models.allocation import SafetyStockDefaults
from models.inventory import ReservationItem
from models.network import NodeKind
from store import Store, UnknownNodeError
from tests.fixtures.concurrency import race
from tests.fixtures.db import a_node


def stock_network(store: Store) -> None:
    store.upsert_node(a_node("dc-a"))
    store.upsert_node(a_node("store-a", kind=NodeKind.STORE))
    store.upsert_node(a_node("store-b", kind=NodeKind.STORE))
    for node_id in ("dc-a", "store-a", "store-b"):
        store.set_on_hand(node_id, "SKU-1", 10, source="wms")


def safety_by_node(store: Store) -> dict[str, int]:
    return {p.node_id: p.safety_stock for p in store.positions(["SKU-1"])}


def test_defaults_apply_by_kind_then_by_node_and_a_positions_own_wins(store: Store) -> None:
    stock_network(store)
    store.set_safety_stock("store-a", "SKU-1", 1, source="planner")

    store.set_safety_stock_defaults(SafetyStockDefaults(by_kind={NodeKind.STORE: 2}, by_node={"store-b": 3}))

    assert safety_by_node(store) == {"dc-a": 0, "store-a": 1, "store-b": 3}
    availability = store.availability("SKU-1")
    assert {n.node_id: n.atp for n in availability.nodes} == {"dc-a": 10, "store-a": 9, "store-b": 7}
    assert availability.total_atp == 26


def test_an_explicit_zero_safety_stock_overrides_the_default(store: Store) -> None:
    stock_network(store)
    store.set_safety_stock_defaults(SafetyStockDefaults(by_kind={NodeKind.STORE: 4}))

    position = store.set_safety_stock("store-a", "SKU-1", 0, source="planner")

    assert position.safety_stock == 0
    assert safety_by_node(store) == {"dc-a": 0, "store-a": 0, "store-b": 4}


def test_defaults_are_replaced_as_a_whole_and_read_back(store: Store) -> None:
    stock_network(store)
    store.set_safety_stock_defaults(SafetyStockDefaults(by_kind={NodeKind.DC: 5}, by_node={"store-a": 1}))

    replaced = store.set_safety_stock_defaults(SafetyStockDefaults(by_kind={NodeKind.STORE: 2}))

    assert replaced == store.safety_stock_defaults() == SafetyStockDefaults(by_kind={NodeKind.STORE: 2})
    assert safety_by_node(store) == {"dc-a": 0, "store-a": 2, "store-b": 2}


def test_a_default_for_an_unknown_node_is_refused_and_changes_nothing(store: Store) -> None:
    stock_network(store)
    store.set_safety_stock_defaults(SafetyStockDefaults(by_kind={NodeKind.STORE: 2}))

    with pytest.raises(UnknownNodeError):
        store.set_safety_stock_defaults(SafetyStockDefaults(by_node={"nowhere": 1}))

    assert store.safety_stock_defaults() == SafetyStockDefaults(by_kind={NodeKind.STORE: 2})


def test_a_count_returns_the_position_with_its_default_safety_stock(store: Store) -> None:
    store.upsert_node(a_node("store-a", kind=NodeKind.STORE))
    store.set_safety_stock_defaults(SafetyStockDefaults(by_kind={NodeKind.STORE: 3}))

    position = store.set_on_hand("store-a", "SKU-NEW", 5, source="pos")

    assert (position.safety_stock, position.atp) == (3, 2)


def test_a_reservation_cannot_take_units_a_default_holds_back(store: Store) -> None:
    stock_network(store)
    store.set_safety_stock_defaults(SafetyStockDefaults(by_kind={NodeKind.STORE: 4}))

    def reserve(key: str, quantity: int) -> bool:
        item = ReservationItem(key=key, node_id="store-a", sku="SKU-1", quantity=quantity)
        return store.reserve([item], order_id=key, expires_at=None, source="test").ok

    too_many = store.reserve(
        [ReservationItem(key="o1", node_id="store-a", sku="SKU-1", quantity=7)],
        order_id="o1",
        expires_at=None,
        source="test",
    )
    assert not too_many.ok
    assert too_many.shortfalls[0].available == 6
    assert reserve("o2", 6)
    assert not reserve("o3", 1)
    assert store.availability("SKU-1").nodes[1].atp == 0


def test_racing_reservations_never_take_units_held_back_by_defaults(store: Store, database_url: str) -> None:
    # 4 + 4 + 4 on hand; a store default of 3 and dc-a's own default of 2 leave 2 + 1 + 1 promisable.
    for node_id, kind in (("dc-a", NodeKind.DC), ("store-a", NodeKind.STORE), ("store-b", NodeKind.STORE)):
        store.upsert_node(a_node(node_id, kind=kind))
        store.set_on_hand(node_id, "SKU-HOT", 4, source="wms")
    store.set_safety_stock_defaults(SafetyStockDefaults(by_kind={NodeKind.STORE: 3}, by_node={"dc-a": 2}))
    nodes = ["dc-a", "store-a", "store-b"]

    def reserve_one_unit_anywhere(racer_store: Store, number: int) -> str | None:
        for attempt in range(len(nodes)):
            node_id = nodes[(number + attempt) % len(nodes)]
            item = ReservationItem(key=f"o{number}:{node_id}", node_id=node_id, sku="SKU-HOT", quantity=1)
            if racer_store.reserve([item], order_id=f"o{number}", expires_at=None, source="race").ok:
                return node_id
        return None

    won = [node_id for node_id in race(database_url, 10, reserve_one_unit_anywhere) if node_id is not None]

    assert sorted(won) == ["dc-a", "dc-a", "store-a", "store-b"]
    for position in store.positions(["SKU-HOT"]):
        assert position.reserved <= position.on_hand - position.safety_stock
        assert position.atp == 0
