"""Events for the retailer's systems: the outbox, subscriptions (secret sealed), deliveries and their attempts.

Revision ID: 0016
Revises: 0014
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0014"
branch_labels = None
depends_on = None

_TIMESTAMP = sa.DateTime(timezone=True)
_SEQ = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "event_outbox",
        sa.Column("seq", _SEQ, autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("order_id", sa.String(200)),
        sa.Column("occurred_at", _TIMESTAMP, nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
        sa.Column("dispatched_at", _TIMESTAMP),
        sa.PrimaryKeyConstraint("seq", name="pk_event_outbox"),
        sa.UniqueConstraint("event_id", name="uq_event_outbox_event_id"),
    )
    op.create_index(op.f("ix_event_outbox_subject_type"), "event_outbox", ["subject", "type"])
    op.create_index(op.f("ix_event_outbox_dispatched_at_seq"), "event_outbox", ["dispatched_at", "seq"])
    op.create_table(
        "event_subscriptions",
        sa.Column("subscription_id", sa.String(40), nullable=False),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("event_types", sa.JSON, nullable=False),
        sa.Column("description", sa.String(200)),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("disabled_reason", sa.String(200)),
        sa.Column("secret_sealed", sa.Text, nullable=False),
        sa.Column("created_at", _TIMESTAMP, nullable=False),
        sa.Column("updated_at", _TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("subscription_id", name="pk_event_subscriptions"),
    )
    op.create_table(
        "event_deliveries",
        sa.Column("seq", _SEQ, autoincrement=True, nullable=False),
        sa.Column("delivery_id", sa.String(40), nullable=False),
        sa.Column("subscription_id", sa.String(40), nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("event_type", sa.String(32), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("replay_of", sa.String(40)),
        sa.Column("created_at", _TIMESTAMP, nullable=False),
        sa.Column("updated_at", _TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_event_deliveries"),
        sa.UniqueConstraint("delivery_id", name="uq_event_deliveries_delivery_id"),
    )
    op.create_index(op.f("ix_event_deliveries_subscription_id_seq"), "event_deliveries", ["subscription_id", "seq"])
    op.create_index(op.f("ix_event_deliveries_state"), "event_deliveries", ["state"])
    op.create_table(
        "event_delivery_attempts",
        sa.Column("delivery_id", sa.String(40), nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("attempted_at", _TIMESTAMP, nullable=False),
        sa.Column("http_status", sa.Integer),
        sa.Column("error", sa.String(500)),
        sa.Column("duration_ms", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("delivery_id", "attempt", name="pk_event_delivery_attempts"),
    )
    op.create_table(
        "event_cursors",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.Column("updated_at", _TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_event_cursors"),
    )


def downgrade() -> None:
    op.drop_table("event_cursors")
    op.drop_table("event_delivery_attempts")
    op.drop_index(op.f("ix_event_deliveries_state"), table_name="event_deliveries")
    op.drop_index(op.f("ix_event_deliveries_subscription_id_seq"), table_name="event_deliveries")
    op.drop_table("event_deliveries")
    op.drop_table("event_subscriptions")
    op.drop_index(op.f("ix_event_outbox_dispatched_at_seq"), table_name="event_outbox")
    op.drop_index(op.f("ix_event_outbox_subject_type"), table_name="event_outbox")
    op.drop_table("event_outbox")
