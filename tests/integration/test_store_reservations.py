"""Reserve, commit and release: all or nothing, idempotent by key, always in step with the ledger."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from models.inventory import MovementKind, ReservationItem, ReservationState, Shortfall
from store import Store
from tests.fixtures.db import a_node


@pytest.fixture
def stocked(store: Store) -> Store:
    """dc-a: 5 of SKU-1 (1 held as safety stock), 3 of SKU-2; dc-b: 2 of SKU-1."""
    store.upsert_node(a_node("dc-a"))
    store.upsert_node(a_node("dc-b"))
    store.set_on_hand("dc-a", "SKU-1", 5, source="wms")
    store.set_safety_stock("dc-a", "SKU-1", 1, source="planner")
    store.set_on_hand("dc-a", "SKU-2", 3, source="wms")
    store.set_on_hand("dc-b", "SKU-1", 2, source="wms")
    return store


def item(key: str, node_id: str, sku: str, quantity: int) -> ReservationItem:
    return ReservationItem(key=key, node_id=node_id, sku=sku, quantity=quantity)


def on_hand_and_reserved(store: Store, node_id: str, sku: str) -> tuple[int, int]:
    (position,) = [p for p in store.positions([sku]) if p.node_id == node_id]
    return position.on_hand, position.reserved


def test_reserving_takes_units_out_of_atp_and_logs_each_item(stocked: Store) -> None:
    expiry = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    result = stocked.reserve(
        [item("o1:1", "dc-a", "SKU-1", 4), item("o1:2", "dc-a", "SKU-2", 1)],
        order_id="o1",
        expires_at=expiry,
        source="order-wf",
    )

    assert result.ok and result.shortfalls == []
    assert stocked.availability("SKU-1").total_atp == 2
    assert on_hand_and_reserved(stocked, "dc-a", "SKU-2") == (3, 1)
    views = stocked.reservations("o1")
    assert [(v.key, v.quantity, v.state, v.expires_at) for v in views] == [
        ("o1:1", 4, ReservationState.ACTIVE, expiry),
        ("o1:2", 1, ReservationState.ACTIVE, expiry),
    ]
    reserves = [m for m in stocked.ledger() if m.kind is MovementKind.RESERVE]
    assert sorted((m.key, m.reserved_delta, m.on_hand_delta) for m in reserves) == [("o1:1", 4, 0), ("o1:2", 1, 0)]


def test_reserving_the_same_key_twice_reserves_once(stocked: Store) -> None:
    for _ in range(2):
        result = stocked.reserve([item("o1:1", "dc-b", "SKU-1", 2)], order_id="o1", expires_at=None, source="t")
        assert result.ok
    assert on_hand_and_reserved(stocked, "dc-b", "SKU-1") == (2, 2)
    assert len(stocked.reservations("o1")) == 1


def test_a_key_already_released_is_not_reserved_again(stocked: Store) -> None:
    stocked.reserve([item("o1:1", "dc-b", "SKU-1", 2)], order_id="o1", expires_at=None, source="t")
    stocked.release(["o1:1"], source="t", reason="cancelled")

    again = stocked.reserve([item("o1:1", "dc-b", "SKU-1", 2)], order_id="o1", expires_at=None, source="t")

    assert again.ok
    assert on_hand_and_reserved(stocked, "dc-b", "SKU-1") == (2, 0)
    assert [v.state for v in stocked.reservations("o1")] == [ReservationState.RELEASED]


def test_one_short_item_rolls_back_the_whole_reservation(stocked: Store) -> None:
    ledger_before = stocked.ledger()
    result = stocked.reserve(
        [
            item("o2:1", "dc-a", "SKU-2", 2),
            item("o2:2", "dc-b", "SKU-1", 3),
            item("o2:3", "dc-x", "SKU-1", 1),
        ],
        order_id="o2",
        expires_at=None,
        source="t",
    )

    assert not result.ok
    assert sorted(result.shortfalls, key=lambda s: s.node_id) == [
        Shortfall(node_id="dc-b", sku="SKU-1", requested=3, available=2),
        Shortfall(node_id="dc-x", sku="SKU-1", requested=1, available=0),
    ]
    assert on_hand_and_reserved(stocked, "dc-a", "SKU-2") == (3, 0)
    assert stocked.reservations("o2") == []
    assert stocked.ledger() == ledger_before


def test_safety_stock_is_never_reserved(stocked: Store) -> None:
    result = stocked.reserve([item("o3:1", "dc-a", "SKU-1", 5)], order_id="o3", expires_at=None, source="t")
    assert result.shortfalls == [Shortfall(node_id="dc-a", sku="SKU-1", requested=5, available=4)]


def test_an_inactive_node_cannot_be_reserved(stocked: Store) -> None:
    stocked.upsert_node(a_node("dc-b", active=False))
    result = stocked.reserve([item("o4:1", "dc-b", "SKU-1", 1)], order_id="o4", expires_at=None, source="t")
    assert result.shortfalls == [Shortfall(node_id="dc-b", sku="SKU-1", requested=1, available=0)]


def test_committing_ships_the_units_once(stocked: Store) -> None:
    stocked.reserve([item("o5:1", "dc-a", "SKU-2", 2)], order_id="o5", expires_at=None, source="t")

    stocked.commit(["o5:1", "unknown-key"], source="shipment")
    stocked.commit(["o5:1"], source="shipment")
    stocked.release(["o5:1"], source="t", reason="too late")

    assert on_hand_and_reserved(stocked, "dc-a", "SKU-2") == (1, 0)
    assert [v.state for v in stocked.reservations("o5")] == [ReservationState.COMMITTED]
    commits = [m for m in stocked.ledger() if m.kind is MovementKind.COMMIT]
    assert [(m.key, m.on_hand_delta, m.reserved_delta, m.source) for m in commits] == [("o5:1", -2, -2, "shipment")]


def test_releasing_gives_the_units_back_once(stocked: Store) -> None:
    stocked.reserve([item("o6:1", "dc-a", "SKU-2", 3)], order_id="o6", expires_at=None, source="t")

    stocked.release(["o6:1"], source="order-wf", reason="cancelled by customer")
    stocked.release(["o6:1"], source="order-wf", reason="cancelled by customer")
    stocked.commit(["o6:1"], source="shipment")

    assert on_hand_and_reserved(stocked, "dc-a", "SKU-2") == (3, 0)
    releases = [m for m in stocked.ledger() if m.kind is MovementKind.RELEASE]
    assert [(m.key, m.reserved_delta, m.reason) for m in releases] == [("o6:1", -3, "cancelled by customer")]


def test_committing_after_a_short_count_stops_on_hand_at_zero(stocked: Store) -> None:
    stocked.reserve([item("o7:1", "dc-b", "SKU-1", 2)], order_id="o7", expires_at=None, source="t")
    stocked.set_on_hand("dc-b", "SKU-1", 1, source="wms")

    stocked.commit(["o7:1"], source="shipment")

    assert on_hand_and_reserved(stocked, "dc-b", "SKU-1") == (0, 0)
    assert stocked.replay_positions()[("dc-b", "SKU-1")] == (0, 0)


def test_expired_reservations_are_the_active_ones_past_their_expiry(stocked: Store) -> None:
    now = datetime.now(UTC)
    stocked.reserve([item("old", "dc-a", "SKU-2", 1)], order_id="o8", expires_at=now - timedelta(hours=1), source="t")
    stocked.reserve([item("new", "dc-a", "SKU-2", 1)], order_id="o8", expires_at=now + timedelta(hours=1), source="t")
    stocked.reserve([item("done", "dc-b", "SKU-1", 1)], order_id="o8", expires_at=now - timedelta(hours=2), source="t")
    stocked.commit(["done"], source="t")

    assert [v.key for v in stocked.expired_reservations(now)] == ["old"]


def test_positions_equal_the_ledger_replayed_after_a_mixed_sequence(stocked: Store) -> None:
    stocked.reserve(
        [item("a", "dc-a", "SKU-1", 2), item("b", "dc-b", "SKU-1", 1)], order_id="o9", expires_at=None, source="t"
    )
    stocked.commit(["a"], source="t")
    stocked.set_on_hand("dc-a", "SKU-1", 9, source="wms")
    stocked.release(["b"], source="t", reason="cancel")
    stocked.restock("dc-b", "SKU-3", 4, key="rma-9", source="returns", reason="grade A")
    stocked.reserve([item("c", "dc-a", "SKU-2", 3)], order_id="o9", expires_at=None, source="t")

    positions = {(p.node_id, p.sku): (p.on_hand, p.reserved) for p in stocked.positions(["SKU-1", "SKU-2", "SKU-3"])}
    assert positions == stocked.replay_positions()
    assert positions[("dc-a", "SKU-1")] == (9, 0)
    assert positions[("dc-a", "SKU-2")] == (3, 3)
