"""The audit trail: who made each change. An `actor` on every ledger movement, the `audit_log` of
changes made through the gateway, and every version of the cost model and the rule set kept in
`sourcing_document_versions` (the versions in force when this runs are kept as the system's; earlier
ones were overwritten before versions were kept).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-12
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_TIMESTAMP = sa.DateTime(timezone=True)
_VERSIONED = ("cost_model", "rules")


def upgrade() -> None:
    with op.batch_alter_table("inventory_ledger") as batch:
        batch.add_column(sa.Column("actor", sa.String(200), nullable=False, server_default="system"))
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), autoincrement=True, nullable=False),
        sa.Column("at", _TIMESTAMP, nullable=False),
        sa.Column("actor_role", sa.String(16), nullable=False),
        sa.Column("actor_id", sa.String(200)),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("order_id", sa.String(200)),
        sa.Column("detail", sa.JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"])
    op.create_index(op.f("ix_audit_log_actor_id_id"), "audit_log", ["actor_id", "id"])
    op.create_index(op.f("ix_audit_log_kind_id"), "audit_log", ["kind", "id"])
    op.create_index(op.f("ix_audit_log_subject_id"), "audit_log", ["subject", "id"])
    op.create_index(op.f("ix_audit_log_order_id_id"), "audit_log", ["order_id", "id"])
    versions = op.create_table(
        "sourcing_document_versions",
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("document", sa.JSON, nullable=False),
        sa.Column("created_at", _TIMESTAMP, nullable=False),
        sa.Column("actor_role", sa.String(16), nullable=False),
        sa.Column("actor_id", sa.String(200)),
        sa.PrimaryKeyConstraint("name", "version", name="pk_sourcing_document_versions"),
    )
    current = sa.table(
        "sourcing_documents", sa.column("name"), sa.column("document", sa.JSON), sa.column("version"),
        sa.column("updated_at"),
    )
    op.execute(versions.insert().from_select(
        ["name", "version", "document", "created_at", "actor_role"],
        sa.select(current.c.name, current.c.version, current.c.document, current.c.updated_at,
                  sa.literal("system", sa.String(16))).where(current.c.name.in_(_VERSIONED)),
    ))


def downgrade() -> None:
    op.drop_table("sourcing_document_versions")
    for index in ("order_id_id", "subject_id", "kind_id", "actor_id_id", "at"):
        op.drop_index(op.f(f"ix_audit_log_{index}"), table_name="audit_log")
    op.drop_table("audit_log")
    with op.batch_alter_table("inventory_ledger") as batch:
        batch.drop_column("actor")
