"""Safety-stock defaults, channel allocation rules, explicit safety stock per position, feed as_of.

Revision ID: 0002
Revises: 0001
Create Date: 2025-01-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("inventory_positions") as batch:
        batch.add_column(sa.Column("safety_stock_explicit", sa.Boolean, nullable=False, server_default=sa.false()))
    # Before 0002 the only way to a non-zero safety stock was to set it: those positions keep theirs.
    op.execute("UPDATE inventory_positions SET safety_stock_explicit = (safety_stock > 0)")
    with op.batch_alter_table("inventory_ledger") as batch:
        batch.add_column(sa.Column("as_of", _TIMESTAMP))
    op.create_table(
        "safety_stock_defaults",
        sa.Column("scope", sa.String(8), nullable=False),
        sa.Column("target", sa.String(64), nullable=False),
        sa.Column("safety_stock", sa.Integer, nullable=False),
        sa.Column("updated_at", _TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("scope", "target", name=op.f("pk_safety_stock_defaults")),
        sa.CheckConstraint("safety_stock >= 0", name=op.f("ck_safety_stock_defaults_safety_stock_not_negative")),
    )
    op.create_table(
        "channel_allocations",
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("rule", sa.JSON, nullable=False),
        sa.Column("updated_at", _TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("channel", name=op.f("pk_channel_allocations")),
    )


def downgrade() -> None:
    op.drop_table("channel_allocations")
    op.drop_table("safety_stock_defaults")
    with op.batch_alter_table("inventory_ledger") as batch:
        batch.drop_column("as_of")
    with op.batch_alter_table("inventory_positions") as batch:
        batch.drop_column("safety_stock_explicit")
