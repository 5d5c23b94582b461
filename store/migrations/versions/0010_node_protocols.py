"""What each node kind's fulfilment needs: a node's hand-off, SLA, daily capacity and provider settings
(one JSON column, validated by models.network.Node), and on a shipment its label's URL and format, the
carrier's last exception, whether it is collected at the node, and whether the node was asked to cancel.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("nodes") as batch:
        batch.add_column(sa.Column("config", sa.JSON, nullable=True))
    with op.batch_alter_table("shipments") as batch:
        batch.add_column(sa.Column("label_url", sa.String(2000), nullable=True))
        batch.add_column(sa.Column("label_format", sa.String(16), nullable=True))
        batch.add_column(sa.Column("exception", sa.String(32), nullable=True))
        batch.add_column(sa.Column("pickup", sa.Boolean, nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("cancel_requested", sa.Boolean, nullable=False, server_default=sa.false()))
    op.create_index("ix_shipments_node_id_state", "shipments", ["node_id", "state"])


def downgrade() -> None:
    op.drop_index("ix_shipments_node_id_state", table_name="shipments")
    with op.batch_alter_table("shipments") as batch:
        for column in ("cancel_requested", "pickup", "exception", "label_format", "label_url"):
            batch.drop_column(column)
    with op.batch_alter_table("nodes") as batch:
        batch.drop_column("config")
