"""Sourcing configuration (SKU catalogue, cost model and rule documents) and the decision per order.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "sku_catalog",
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("weight_lb", sa.Float, nullable=False),
        sa.Column("length_in", sa.Float, nullable=False),
        sa.Column("width_in", sa.Float, nullable=False),
        sa.Column("height_in", sa.Float, nullable=False),
        sa.Column("tags", sa.JSON, nullable=False),
        sa.Column("updated_at", _TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("sku", name=op.f("pk_sku_catalog")),
    )
    op.create_table(
        "sourcing_documents",
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("document", sa.JSON, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("updated_at", _TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_sourcing_documents")),
    )
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("decision", sa.JSON))


def downgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("decision")
    op.drop_table("sourcing_documents")
    op.drop_table("sku_catalog")
