"""Orders by creation time (the live look-ahead reads the last days of orders every refresh), the
time a planned order's shipments wait until for a release wave, and the SKUs an order has on
backorder (the backorder sweep looks for orders whose stock has come in).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(op.f("ix_orders_created_at"), "orders", ["created_at"])
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("release_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("backordered_skus", sa.JSON, nullable=False, server_default="[]"))
        batch.add_column(sa.Column("has_backorders", sa.Boolean, nullable=False, server_default=sa.false()))
    op.create_index(op.f("ix_orders_release_at"), "orders", ["release_at"])
    op.create_index(op.f("ix_orders_has_backorders"), "orders", ["has_backorders"])


def downgrade() -> None:
    op.drop_index(op.f("ix_orders_has_backorders"), table_name="orders")
    op.drop_index(op.f("ix_orders_release_at"), table_name="orders")
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("has_backorders")
        batch.drop_column("backordered_skus")
        batch.drop_column("release_at")
    op.drop_index(op.f("ix_orders_created_at"), table_name="orders")
