"""Orders by creation time: the live look-ahead reads the last days of orders every refresh.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(op.f("ix_orders_created_at"), "orders", ["created_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_orders_created_at"), table_name="orders")
