"""The message ledger: each customer message by its key and channel, recorded before it is sent and marked
sent with the provider's id after, so that a retried or rerun notify sends it once.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


_TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "notification_messages",
        sa.Column("message_key", sa.String(200), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("recipient", sa.String(64), nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("provider_message_id", sa.String(100)),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="1"),
        sa.Column("uncertain_resends", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", _TIMESTAMP, nullable=False),
        sa.Column("updated_at", _TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("message_key", "channel", name=op.f("pk_notification_messages")),
        sa.CheckConstraint("state IN ('sending', 'sent', 'failed', 'rejected', 'suppressed')",
                           name=op.f("ck_notification_messages_known_state")),
    )


def downgrade() -> None:
    op.drop_table("notification_messages")
