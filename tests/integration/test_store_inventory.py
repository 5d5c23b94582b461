"""Counts, safety stock, restocks and availability, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from models.allocation import InventoryFeedItem
from models.inventory import MovementKind, ReservationItem
from store import InvalidQuantityError, Store, UnknownNodeError, ledger
from tests.fixtures.db import a_node


@pytest.fixture
def network(store: Store) -> Store:
    for node_id in ("dc-east", "dc-west", "store-closed"):
        store.upsert_node(a_node(node_id, active=node_id != "store-closed"))
    return store


def test_a_count_creates_the_position_and_logs_the_delta(network: Store) -> None:
    first = network.set_on_hand("dc-east", "SKU-1", 10, source="wms")
    second = network.set_on_hand("dc-east", "SKU-1", 7, source="wms", reason="cycle count")

    assert (first.on_hand, second.on_hand, second.reserved, second.atp) == (10, 7, 0, 7)
    movements = network.ledger(node_id="dc-east", sku="SKU-1")
    assert [(m.kind, m.on_hand_delta, m.reserved_delta) for m in movements] == [
        (MovementKind.COUNT, 10, 0),
        (MovementKind.COUNT, -3, 0),
    ]
    assert movements[1].reason == "cycle count" and movements[1].source == "wms"
    assert movements[0].created_at.tzinfo is not None
    assert second.updated_at is not None and second.updated_at.utcoffset() == UTC.utcoffset(None)


def test_a_count_below_what_is_reserved_is_kept_and_leaves_no_atp(network: Store) -> None:
    network.set_on_hand("dc-east", "SKU-1", 5, source="wms")
    network.reserve(
        [ReservationItem(key="k1", node_id="dc-east", sku="SKU-1", quantity=4)],
        order_id="o1",
        expires_at=None,
        source="test",
    )
    position = network.set_on_hand("dc-east", "SKU-1", 2, source="wms")

    assert (position.on_hand, position.reserved, position.atp) == (2, 4, 0)
    assert network.availability("SKU-1").total_atp == 0


def test_counting_at_an_unknown_node_names_the_node(network: Store) -> None:
    with pytest.raises(UnknownNodeError, match="dc-nowhere") as raised:
        network.set_on_hand("dc-nowhere", "SKU-1", 3, source="wms")
    assert raised.value.node_id == "dc-nowhere"
    assert network.ledger() == []


def test_a_negative_count_is_refused(network: Store) -> None:
    with pytest.raises(InvalidQuantityError, match="on_hand"):
        network.set_on_hand("dc-east", "SKU-1", -1, source="wms")


def test_availability_subtracts_reserved_and_safety_stock_and_skips_inactive_nodes(network: Store) -> None:
    network.set_on_hand("dc-west", "SKU-1", 4, source="wms")
    network.set_on_hand("dc-east", "SKU-1", 10, source="wms")
    network.set_safety_stock("dc-east", "SKU-1", 3, source="planner")
    network.set_on_hand("store-closed", "SKU-1", 50, source="wms")

    availability = network.availability("SKU-1")

    assert [(n.node_id, n.atp, n.safety_stock) for n in availability.nodes] == [("dc-east", 7, 3), ("dc-west", 4, 0)]
    assert availability.total_atp == 11
    assert [(p.node_id, p.sku) for p in network.positions(["SKU-1", "SKU-2"])] == [
        ("dc-east", "SKU-1"),
        ("dc-west", "SKU-1"),
    ]


def test_positions_of_no_skus_is_empty(network: Store) -> None:
    network.set_on_hand("dc-east", "SKU-1", 1, source="wms")
    assert network.positions([]) == []
    assert network.availability("SKU-unknown").nodes == []


def test_restocking_the_same_key_twice_restocks_once(network: Store) -> None:
    first = network.restock("dc-west", "SKU-9", 2, key="rma-1:SKU-9", source="returns", reason="grade A")
    again = network.restock("dc-west", "SKU-9", 2, key="rma-1:SKU-9", source="returns", reason="grade A")
    other = network.restock("dc-west", "SKU-9", 1, key="rma-2:SKU-9", source="returns", reason="grade B")

    assert (first.on_hand, again.on_hand, other.on_hand) == (2, 2, 3)
    restocks = [m for m in network.ledger(sku="SKU-9") if m.kind is MovementKind.RETURN_RESTOCK]
    assert [(m.key, m.on_hand_delta) for m in restocks] == [("rma-1:SKU-9", 2), ("rma-2:SKU-9", 1)]


def test_restocking_needs_a_known_node_and_a_positive_quantity(network: Store) -> None:
    with pytest.raises(UnknownNodeError):
        network.restock("dc-nowhere", "SKU-9", 1, key="k", source="returns", reason="r")
    with pytest.raises(InvalidQuantityError, match="quantity"):
        network.restock("dc-east", "SKU-9", 0, key="k", source="returns", reason="r")


def test_a_restock_key_reused_for_another_sku_changes_nothing(network: Store) -> None:
    network.restock("dc-west", "SKU-9", 2, key="rma-1:1", source="returns", reason="grade A")

    again = network.restock("dc-east", "SKU-8", 5, key="rma-1:1", source="returns", reason="grade A")

    assert (again.node_id, again.sku, again.on_hand) == ("dc-west", "SKU-9", 2)
    assert network.positions(["SKU-8"]) == []
    assert len(network.ledger()) == 1


def test_a_feed_items_as_of_comes_back_on_its_movement_in_utc(network: Store) -> None:
    observed = datetime(2025, 3, 1, 5, 30, tzinfo=timezone(timedelta(hours=-6)))
    network.apply_inventory_feed([
        InventoryFeedItem(node_id="dc-east", sku="SKU-7", on_hand=12, source="wms", as_of=observed),
        InventoryFeedItem(node_id="dc-east", sku="SKU-7", delta=3, kind="receipt", source="wms"),
    ])

    count, receipt = network.ledger(node_id="dc-east", sku="SKU-7")

    assert (count.kind, count.on_hand_delta) == (MovementKind.COUNT, 12)
    assert count.as_of == datetime(2025, 3, 1, 11, 30, tzinfo=UTC)
    assert count.as_of is not None and count.as_of.utcoffset() == timedelta(0)
    assert receipt.as_of is None


def test_an_appended_movement_keeps_its_as_of_and_a_plain_one_has_none(network: Store) -> None:
    network.set_on_hand("dc-east", "SKU-8", 5, source="wms")  # the position every movement belongs to
    observed = datetime(2025, 3, 1, 11, 30, tzinfo=UTC)
    with network.engine.begin() as connection:
        ledger.append(connection, [
            ledger.MovementIn(node_id="dc-east", sku="SKU-8", kind=MovementKind.ADJUSTMENT, on_hand_delta=2,
                              source="pos", as_of=observed),
            ledger.MovementIn(node_id="dc-east", sku="SKU-8", kind=MovementKind.ADJUSTMENT, on_hand_delta=-1,
                              source="pos"),
        ])

    assert [m.as_of for m in network.ledger(sku="SKU-8")] == [None, observed, None]
