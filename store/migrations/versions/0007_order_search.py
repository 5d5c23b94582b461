"""Order search (GET /v1/orders): the customer's e-mail as a column, an order's SKUs and nodes as rows of
their own, and an index per filter ending in (created_at, order_id) for newest-first pages.

Existing orders are filled in: the e-mail from the customer JSON, the SKUs from the lines, the nodes from
the shipments. The plain indexes on created_at and has_backorders give way to the longer ones that
start with them.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-08
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_TIMESTAMP = sa.DateTime(timezone=True)
_BATCH = 2000
_ORDER_INDEXES = [
    [*filtered, "created_at", "order_id"] for filtered in ([], ["channel"], ["status"], ["customer_email"],
                                                             ["has_backorders"])
]

_orders = sa.table(
    "orders",
    sa.column("order_id", sa.String),
    sa.column("customer", sa.JSON),
    sa.column("lines", sa.JSON),
    sa.column("created_at", _TIMESTAMP),
    sa.column("customer_email", sa.String),
)
_shipments = sa.table("shipments", sa.column("order_id", sa.String), sa.column("node_id", sa.String))
_order_skus = sa.table(
    "order_skus", sa.column("order_id", sa.String), sa.column("sku", sa.String), sa.column("created_at", _TIMESTAMP))
_order_nodes = sa.table(
    "order_nodes", sa.column("order_id", sa.String), sa.column("node_id", sa.String),
    sa.column("created_at", _TIMESTAMP))


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("customer_email", sa.String(254)))
    _create_key_tables()
    _fill_emails_and_skus()
    op.execute(sa.insert(_order_nodes).from_select(
        ["order_id", "node_id", "created_at"],
        sa.select(_shipments.c.order_id, _shipments.c.node_id, sa.func.min(_orders.c.created_at))
        .join(_orders, _orders.c.order_id == _shipments.c.order_id)
        .group_by(_shipments.c.order_id, _shipments.c.node_id),
    ))
    with op.batch_alter_table("orders") as batch:
        batch.alter_column("customer_email", existing_type=sa.String(254), nullable=False)
    op.drop_index(op.f("ix_orders_created_at"), table_name="orders")
    op.drop_index(op.f("ix_orders_has_backorders"), table_name="orders")
    for columns in _ORDER_INDEXES:
        op.create_index(op.f(f"ix_orders_{'_'.join(columns)}"), "orders", columns)


def downgrade() -> None:
    for columns in _ORDER_INDEXES:
        op.drop_index(op.f(f"ix_orders_{'_'.join(columns)}"), table_name="orders")
    op.create_index(op.f("ix_orders_has_backorders"), "orders", ["has_backorders"])
    op.create_index(op.f("ix_orders_created_at"), "orders", ["created_at"])
    op.drop_table("order_nodes")
    op.drop_table("order_skus")
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("customer_email")


def _create_key_tables() -> None:
    for table, key, length in (("order_skus", "sku", 64), ("order_nodes", "node_id", 64)):
        op.create_table(
            table,
            sa.Column("order_id", sa.String(200), nullable=False),
            sa.Column(key, sa.String(length), nullable=False),
            sa.Column("created_at", _TIMESTAMP, nullable=False),
            sa.PrimaryKeyConstraint("order_id", key, name=f"pk_{table}"),
        )
        op.create_index(op.f(f"ix_{table}_{key}_created_at_order_id"), table, [key, "created_at", "order_id"])


def _fill_emails_and_skus() -> None:
    """Every order in batches by order_id: the e-mail trimmed and lower-cased (as the store writes it) and
    one row per distinct SKU of its lines."""
    connection = op.get_bind()
    after = ""
    while True:
        rows = connection.execute(
            sa.select(_orders.c.order_id, _orders.c.customer, _orders.c.lines, _orders.c.created_at)
            .where(_orders.c.order_id > after).order_by(_orders.c.order_id).limit(_BATCH)
        ).all()
        if not rows:
            return
        emails: list[dict[str, Any]] = []
        skus: list[dict[str, Any]] = []
        for row in rows:
            emails.append({"key": row.order_id, "email": str(row.customer["email"]).strip().lower()})
            for sku in sorted({str(line["sku"]) for line in row.lines}):
                skus.append({"order_id": row.order_id, "sku": sku, "created_at": row.created_at})
        connection.execute(
            sa.update(_orders).where(_orders.c.order_id == sa.bindparam("key"))
            .values(customer_email=sa.bindparam("email")),
            emails,
        )
        if skus:
            connection.execute(sa.insert(_order_skus), skus)
        after = rows[-1].order_id
