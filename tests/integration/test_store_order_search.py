"""Order search in the read model (`Store.search_orders`), on SQLite and PostgreSQL: each filter finds
exactly its orders, pages walk every order once, and each search reads an index."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from models.order import OrderStatus
from models.order_search import OrderCursor, OrderSearch
from store import Store
from store.tables import order_nodes, order_skus, orders
from tests.fixtures.order_search import T0, Placed, record_all

ORDERS = [
    Placed("web-1", 0, skus=("MUG-1",)),
    Placed("web-2", 1, skus=("MUG-1", "TEE-1"), status=OrderStatus.HELD, email="Bob@Example.com"),
    Placed("web-3", 2, skus=("TEE-1",), status=OrderStatus.FULFILLING, nodes=("dc-a",)),
    Placed("pos-1", 2, skus=("MUG-1",), status=OrderStatus.FULFILLING, email="cy@example.com", nodes=("dc-b",)),
    Placed("pos-2", 3, skus=("CAP-1",), status=OrderStatus.BACKORDERED, nodes=("dc-a", "dc-b"), backordered=True),
    Placed("amazon-1", 4, skus=("TEE-1",), status=OrderStatus.CANCELLED, email="dee@example.com"),
]

FILTERS: list[tuple[dict[str, Any], list[str]]] = [
    ({}, ["amazon-1", "pos-2", "web-3", "pos-1", "web-2", "web-1"]),
    ({"status": OrderStatus.FULFILLING}, ["web-3", "pos-1"]),
    ({"channels": {"web"}}, ["web-3", "web-2", "web-1"]),
    ({"channels": {"web", "pos"}}, ["pos-2", "web-3", "pos-1", "web-2", "web-1"]),
    ({"channels": set()}, []),
    ({"node_id": "dc-a"}, ["pos-2", "web-3"]),
    ({"node_id": "dc-z"}, []),
    ({"sku": "MUG-1"}, ["pos-1", "web-2", "web-1"]),
    ({"customer_email": " ADA@example.com"}, ["pos-2", "web-3", "web-1"]),
    ({"customer_email": "bob@example.com"}, ["web-2"]),
    ({"created_from": T0 + timedelta(minutes=1), "created_to": T0 + timedelta(minutes=3)}, ["web-3", "pos-1", "web-2"]),
    ({"held": True}, ["web-2"]),
    ({"held": False}, ["amazon-1", "pos-2", "web-3", "pos-1", "web-1"]),
    ({"backordered": True}, ["pos-2"]),
    ({"backordered": False}, ["amazon-1", "web-3", "pos-1", "web-2", "web-1"]),
    ({"sku": "TEE-1", "node_id": "dc-a"}, ["web-3"]),
    ({"sku": "MUG-1", "channels": {"web"}}, ["web-2", "web-1"]),
    ({"node_id": "dc-b", "channels": {"web", "pos"}, "status": OrderStatus.FULFILLING}, ["pos-1"]),
    ({"status": OrderStatus.HELD, "held": False}, []),
]


def filters_id(filters: dict[str, Any]) -> str:
    """The filters as a test id, sets sorted: a set's order follows the process's hash seed, and every
    pytest-xdist worker must name the tests alike."""
    return str({key: sorted(value) if isinstance(value, set) else value for key, value in filters.items()})


@pytest.mark.parametrize(("filters", "expected"), FILTERS, ids=[filters_id(f) for f, _ in FILTERS])
def test_each_filter_finds_exactly_its_orders_newest_first(
    store: Store, filters: dict[str, Any], expected: list[str]
) -> None:
    record_all(store, ORDERS)

    page = store.search_orders(OrderSearch.model_validate(filters))

    assert [item.order_id for item in page.items] == expected
    assert page.next_cursor is None


def test_a_summary_says_what_and_where_without_personal_data(store: Store) -> None:
    record_all(store, ORDERS)

    (summary,) = store.search_orders(OrderSearch(node_id="dc-b", backordered=True)).items

    assert summary.order_id == "pos-2" and summary.channel == "pos" and summary.channel_order_id == "2"
    assert summary.status is OrderStatus.BACKORDERED and summary.has_backorders
    assert summary.total.amount == 2000 and summary.total.currency == "USD"
    assert summary.node_ids == ["dc-a", "dc-b"]
    assert summary.created_at == T0 + timedelta(minutes=3)
    assert not {"customer", "customer_email", "ship_to"} & set(summary.model_dump())


SAME_TIMES = [Placed(f"{channel}-{n}", minute=n % 3, skus=("MUG-1", f"S-{n % 2}"), nodes=(f"dc-{n % 2}",))
              for n in range(23) for channel in (("web",) if n % 3 else ("web", "pos"))]


@pytest.mark.parametrize("filters", [{}, {"channels": {"web", "pos"}}, {"sku": "MUG-1"}, {"node_id": "dc-1"},
                                     {"channels": {"web"}, "sku": "S-0"}], ids=filters_id)
def test_pages_walk_every_order_once_when_many_share_a_creation_time(store: Store, filters: dict[str, Any]) -> None:
    record_all(store, SAME_TIMES)
    wanted = OrderSearch.model_validate(filters)
    expected = [item.order_id for item in store.search_orders(wanted.model_copy(update={"limit": 500})).items]

    seen: list[str] = []
    cursor = None
    for _ in range(len(SAME_TIMES)):
        page = store.search_orders(wanted.model_copy(update={"limit": 4, "after": cursor}))
        assert len(page.items) <= 4
        seen += [item.order_id for item in page.items]
        if page.next_cursor is None:
            break
        cursor = OrderCursor.decode(page.next_cursor)

    assert seen == expected
    assert len(set(seen)) == len(seen)
    assert len(expected) > 8


def test_a_full_last_page_says_there_is_no_next_one(store: Store) -> None:
    record_all(store, ORDERS[:4])

    first = store.search_orders(OrderSearch(limit=2))
    assert first.next_cursor is not None
    second = store.search_orders(OrderSearch(limit=2, after=OrderCursor.decode(first.next_cursor)))

    assert [item.order_id for item in second.items] == ["web-2", "web-1"]
    assert second.next_cursor is None


def test_orders_placed_after_a_cursor_do_not_shift_the_pages_behind_it(store: Store) -> None:
    record_all(store, ORDERS[:4])
    first = store.search_orders(OrderSearch(limit=2))
    assert first.next_cursor is not None

    record_all(store, ORDERS[4:])
    second = store.search_orders(OrderSearch(limit=2, after=OrderCursor.decode(first.next_cursor)))

    assert [item.order_id for item in second.items] == ["web-2", "web-1"]


def test_a_shipment_recorded_again_keeps_one_node_row_and_a_new_node_adds_one(store: Store) -> None:
    record_all(store, [Placed("web-9", 0, nodes=("dc-a", "dc-a", "dc-b"))])

    (summary,) = store.search_orders(OrderSearch()).items

    assert summary.node_ids == ["dc-a", "dc-b"]


# Each typical search and the index it must read its page from.
TYPICAL_SEARCHES: dict[str, tuple[dict[str, Any], str]] = {
    "newest": ({}, "ix_orders_created_at_order_id"),
    "channel": ({"channels": {"web"}}, "ix_orders_channel_created_at_order_id"),
    "channel, second page": ({"channels": {"web"}, "after": {"created_at": T0, "order_id": "web-5"}},
                             "ix_orders_channel_created_at_order_id"),
    "two channels": ({"channels": {"web", "pos"}}, "ix_orders_channel_created_at_order_id"),
    "status": ({"status": OrderStatus.FULFILLING}, "ix_orders_status_created_at_order_id"),
    "held": ({"held": True}, "ix_orders_status_created_at_order_id"),
    "backordered": ({"backordered": True}, "ix_orders_has_backorders_created_at_order_id"),
    "sku": ({"sku": "MUG-1"}, "ix_order_skus_sku_created_at_order_id"),
    "node": ({"node_id": "dc-a"}, "ix_order_nodes_node_id_created_at_order_id"),
    "customer e-mail": ({"customer_email": "ada@example.com"}, "ix_orders_customer_email_created_at_order_id"),
    "created between": ({"created_from": T0, "created_to": T0 + timedelta(days=1)}, "ix_orders_created_at_order_id"),
}
OLDER_ORDERS = 5000


@pytest.mark.parametrize("search", list(TYPICAL_SEARCHES))
def test_each_search_reads_its_page_from_its_own_index(store: Store, search: str) -> None:
    record_all(store, ORDERS)
    _add_older_orders(store, OLDER_ORDERS)
    filters, index = TYPICAL_SEARCHES[search]

    plan = store.explain_order_search(OrderSearch.model_validate(filters))

    text = "\n".join(plan)
    assert index in text, text
    if store.engine.dialect.name == "sqlite":
        reads = [step for step in plan if step.startswith(("SCAN ", "SEARCH ")) and " anon_" not in step]
        assert all(" USING " in step and "INDEX" in step for step in reads), text
        # The only sort allowed merges the few rows of each channel's page.
        assert "TEMP B-TREE" not in text or "MERGE (UNION ALL)" in text, text
    else:
        assert "Seq Scan" not in text, text


def _add_older_orders(store: Store, count: int) -> None:
    """`count` completed orders of another channel, SKU and customer, before T0, written in bulk; on
    PostgreSQL the planner then knows the tables (ANALYZE) and that the searches above are selective."""
    rows, skus, nodes = [], [], []
    for n in range(count):
        created = T0 - timedelta(days=2, seconds=n)
        rows.append({"order_id": f"bulk-{n}", "workflow_id": f"order-bulk-{n}", "channel": "bulk",
                     "channel_order_id": str(n), "status": "completed", "currency": "USD",
                     "customer": {"email": f"c{n}@example.com", "name": "C"}, "ship_to": {}, "lines": [],
                     "created_at": created, "updated_at": created, "customer_email": f"c{n}@example.com"})
        skus.append({"order_id": f"bulk-{n}", "sku": "BULK-1", "created_at": created})
        nodes.append({"order_id": f"bulk-{n}", "node_id": "dc-bulk", "created_at": created})
    with store.engine.begin() as connection:
        connection.execute(sa.insert(orders), rows)
        connection.execute(sa.insert(order_skus), skus)
        connection.execute(sa.insert(order_nodes), nodes)
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("ANALYZE")
