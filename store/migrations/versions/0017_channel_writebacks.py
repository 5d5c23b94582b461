"""What has been written back to a sales channel (a shipment's fulfillment, an order's cancel), once each.

Revision ID: 0017
Revises: 0014
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

_TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "channel_writebacks",
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("order_id", sa.String(200), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("external_id", sa.String(200)),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("written_at", _TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("channel", "kind", "subject", name="pk_channel_writebacks"),
    )
    op.create_index(op.f("ix_channel_writebacks_order_id"), "channel_writebacks", ["order_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_channel_writebacks_order_id"), table_name="channel_writebacks")
    op.drop_table("channel_writebacks")
