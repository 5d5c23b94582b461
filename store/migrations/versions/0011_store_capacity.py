"""A store's accepted shipments per local day, held to its daily capacity: a counter per store and day,
and the shipments that hold a slot.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "store_day_capacity",
        sa.Column("node_id", sa.String(64), primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("accepted", sa.Integer, nullable=False, server_default="0"),
        sa.CheckConstraint("accepted >= 0", name="accepted_not_negative"),
    )
    op.create_table(
        "store_accepts",
        sa.Column("shipment_id", sa.String(200), primary_key=True),
        sa.Column("node_id", sa.String(64), nullable=False),
        sa.Column("day", sa.Date, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("store_accepts")
    op.drop_table("store_day_capacity")
