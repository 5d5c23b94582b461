"""Why an order is held (models.order.HoldReason: review, payment, address, carrier), for the operator search.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("hold_reason", sa.String(16)))
    op.create_index(op.f("ix_orders_hold_reason_created_at_order_id"), "orders",
                    ["hold_reason", "created_at", "order_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_orders_hold_reason_created_at_order_id"), table_name="orders")
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("hold_reason")
