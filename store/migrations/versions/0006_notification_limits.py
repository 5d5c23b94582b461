"""Per-recipient message limits: messages of one kind to one recipient (hashed) in the current window,
and those held back over the limit.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "notification_limits",
        sa.Column("recipient", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("window_start", _TIMESTAMP, nullable=False),
        sa.Column("window_sent", sa.Integer, nullable=False),
        sa.Column("suppressed_total", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_suppressed_at", _TIMESTAMP),
        sa.PrimaryKeyConstraint("recipient", "kind", name=op.f("pk_notification_limits")),
        sa.CheckConstraint("window_sent >= 0", name=op.f("ck_notification_limits_window_sent_not_negative")),
    )


def downgrade() -> None:
    op.drop_table("notification_limits")
