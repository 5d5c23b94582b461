"""Webhook deliveries already handled, kept until they expire, so that a sender's retry of one is not
applied twice (Shopify's X-Shopify-Webhook-Id).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "webhook_deliveries",
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("delivery_id", sa.String(200), nullable=False),
        sa.Column("handled_at", _TIMESTAMP, nullable=False),
        sa.Column("expires_at", _TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("source", "delivery_id", name="pk_webhook_deliveries"),
    )
    op.create_index(op.f("ix_webhook_deliveries_expires_at"), "webhook_deliveries", ["expires_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_webhook_deliveries_expires_at"), table_name="webhook_deliveries")
    op.drop_table("webhook_deliveries")
