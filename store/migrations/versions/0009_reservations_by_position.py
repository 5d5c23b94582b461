"""An index on reservations by (sku, node_id, state): a channel's open reservations at a position count
against its allocation share, read inside every reservation of a channel with a rule.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_reservations_sku_node_id_state", "reservations", ["sku", "node_id", "state"])


def downgrade() -> None:
    op.drop_index("ix_reservations_sku_node_id_state", table_name="reservations")
