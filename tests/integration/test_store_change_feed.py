"""The ledger as a change feed: which SKUs moved after a cursor."""

from __future__ import annotations

from store import Store
from tests.fixtures.db import a_node


def test_a_new_reader_starts_from_now_and_then_sees_each_sku_that_moves(store: Store) -> None:
    store.upsert_node(a_node("dc-a"))
    store.set_on_hand("dc-a", "OLD", 5, source="test")
    skus, cursor = store.skus_moved_since(None)
    assert skus == [] and cursor is not None

    store.set_on_hand("dc-a", "NEW-1", 3, source="test")
    store.set_on_hand("dc-a", "NEW-2", 3, source="test")
    store.set_on_hand("dc-a", "NEW-1", 2, source="test")
    moved, after = store.skus_moved_since(cursor)

    assert moved == ["NEW-1", "NEW-2"]
    assert store.skus_moved_since(after) == ([], after)


def test_the_feed_reads_at_most_limit_movements_at_a_time(store: Store) -> None:
    store.upsert_node(a_node("dc-a"))
    _, cursor = store.skus_moved_since(None)
    for n in range(5):
        store.set_on_hand("dc-a", f"SKU-{n}", 1, source="test")

    first, cursor = store.skus_moved_since(cursor, limit=3)
    rest, _ = store.skus_moved_since(cursor, limit=3)

    assert first == ["SKU-0", "SKU-1", "SKU-2"] and rest == ["SKU-3", "SKU-4"]
