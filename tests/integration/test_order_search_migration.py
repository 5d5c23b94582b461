"""Migration 0007 on a database holding orders from before it: their e-mails, SKUs and nodes become
searchable, and the downgrade takes the search keys away again (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import command

from models.order_search import OrderSearch
from store import Store, upgrade_database
from store.engine import create_store_engine
from store.migrate import alembic_config

BEFORE_SEARCH = "0005"
CREATED = datetime(2025, 6, 2, 15, 0, tzinfo=UTC)


def test_orders_recorded_before_the_migration_are_found_by_every_key(unmigrated_database_url: str) -> None:
    url = unmigrated_database_url
    command.upgrade(alembic_config(url), BEFORE_SEARCH)
    _record_old_orders(url)

    upgrade_database(url)

    store = Store.connect(url)
    try:
        def found(**filters: object) -> list[str]:
            return [item.order_id for item in store.search_orders(OrderSearch.model_validate(filters)).items]

        assert found(customer_email="ada@example.com") == ["web-2", "web-1"]
        assert found(sku="TEE-1") == ["web-2"]
        assert found(sku="MUG-1") == ["web-2", "web-1"]
        assert found(node_id="dc-b") == ["web-1"]
        assert found(channels={"web"}, status="held") == ["web-2"]
        (first,) = [item for item in store.search_orders(OrderSearch()).items if item.order_id == "web-1"]
        assert first.node_ids == ["dc-a", "dc-b"] and first.total.amount == 3000
    finally:
        store.dispose()


def test_the_downgrade_removes_the_search_keys_and_the_upgrade_restores_them(unmigrated_database_url: str) -> None:
    url = unmigrated_database_url
    command.upgrade(alembic_config(url), BEFORE_SEARCH)
    _record_old_orders(url)
    upgrade_database(url)

    command.downgrade(alembic_config(url), BEFORE_SEARCH)
    engine = create_store_engine(url)
    try:
        inspector = sa.inspect(engine)
        assert "order_skus" not in inspector.get_table_names()
        assert "customer_email" not in {column["name"] for column in inspector.get_columns("orders")}
    finally:
        engine.dispose()
    upgrade_database(url)
    store = Store.connect(url)
    try:
        assert [item.order_id for item in store.search_orders(OrderSearch(sku="TEE-1")).items] == ["web-2"]
    finally:
        store.dispose()


def _record_old_orders(url: str) -> None:
    """Two orders and three shipments as the schema before 0007 held them."""
    store = Store.connect(url)
    metadata = sa.MetaData()
    orders = sa.Table("orders", metadata, autoload_with=store.engine)
    shipments = sa.Table("shipments", metadata, autoload_with=store.engine)
    rows = [
        _old_order("web-1", "Ada@Example.com ", [("MUG-1", 1000), ("MUG-1", 500)], "received", 0),
        _old_order("web-2", "ada@example.com", [("MUG-1", 1000), ("TEE-1", 2000)], "held", 1),
    ]
    try:
        with store.engine.begin() as connection:
            connection.execute(sa.insert(orders), rows)
            connection.execute(sa.insert(shipments), [
                {"shipment_id": f"web-1-S{n}", "order_id": "web-1", "node_id": node, "lines": [], "state": "released"}
                for n, node in enumerate(("dc-a", "dc-b", "dc-a"), start=1)])
    finally:
        store.dispose()


def _old_order(order_id: str, email: str, lines: list[tuple[str, int]], status: str, minute: int) -> dict[str, object]:
    created = CREATED.replace(minute=minute)
    return {
        "order_id": order_id, "workflow_id": f"order-{order_id}", "channel": "web",
        "channel_order_id": order_id.removeprefix("web-"), "status": status, "currency": "USD",
        "customer": {"email": email, "name": "Ada"}, "ship_to": {"name": "Ada"},
        "lines": [{"sku": sku, "quantity": 2, "unit_price": price} for sku, price in lines],
        "created_at": created, "updated_at": created,
    }
