"""Failed customer messages are sent again later: each ledger row keeps the message (`notification`, the
Notification as JSON) and when it may next be tried (`next_attempt_at`); a message tried for too long is
`abandoned`.

Revision ID: 0019
Revises: 0014
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0017"
branch_labels = None
depends_on = None

_STATES = "'sending', 'sent', 'failed', 'rejected', 'suppressed'"


def upgrade() -> None:
    with op.batch_alter_table("notification_messages") as batch:
        batch.add_column(sa.Column("notification", sa.Text))
        batch.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True)))
        batch.drop_constraint(op.f("ck_notification_messages_known_state"), type_="check")
        batch.create_check_constraint(op.f("ck_notification_messages_known_state"),
                                      f"state IN ({_STATES}, 'abandoned')")
    op.create_index(op.f("ix_notification_messages_next_attempt_at"), "notification_messages", ["next_attempt_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_notification_messages_next_attempt_at"), table_name="notification_messages")
    op.execute("UPDATE notification_messages SET state = 'failed' WHERE state = 'abandoned'")
    with op.batch_alter_table("notification_messages") as batch:
        batch.drop_constraint(op.f("ck_notification_messages_known_state"), type_="check")
        batch.create_check_constraint(op.f("ck_notification_messages_known_state"), f"state IN ({_STATES})")
        batch.drop_column("next_attempt_at")
        batch.drop_column("notification")
