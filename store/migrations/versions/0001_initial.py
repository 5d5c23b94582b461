"""Initial schema: network, inventory positions, reservations, ledger, and the order read model.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_ID = sa.String(200)
_NODE_ID = sa.String(64)
_SKU = sa.String(64)
# Written out rather than imported from store.tables: a migration must not change when the code does.
_TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "nodes",
        sa.Column("node_id", _NODE_ID, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("line1", sa.String(200)),
        sa.Column("city", sa.String(100)),
        sa.Column("region", sa.String(100)),
        sa.Column("postal_code", sa.String(20)),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("latitude", sa.Float),
        sa.Column("longitude", sa.Float),
        sa.Column("capabilities", sa.JSON, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("updated_at", _TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("node_id", name=op.f("pk_nodes")),
    )
    op.create_table(
        "inventory_positions",
        sa.Column("node_id", _NODE_ID, nullable=False),
        sa.Column("sku", _SKU, nullable=False),
        sa.Column("on_hand", sa.Integer, nullable=False),
        sa.Column("reserved", sa.Integer, nullable=False),
        sa.Column("safety_stock", sa.Integer, nullable=False),
        sa.Column("updated_at", _TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("node_id", "sku", name=op.f("pk_inventory_positions")),
        sa.ForeignKeyConstraint(["node_id"], ["nodes.node_id"], name=op.f("fk_inventory_positions_node_id_nodes")),
        sa.CheckConstraint("on_hand >= 0", name=op.f("ck_inventory_positions_on_hand_not_negative")),
        sa.CheckConstraint("reserved >= 0", name=op.f("ck_inventory_positions_reserved_not_negative")),
        sa.CheckConstraint("safety_stock >= 0", name=op.f("ck_inventory_positions_safety_stock_not_negative")),
    )
    op.create_index(op.f("ix_inventory_positions_sku"), "inventory_positions", ["sku"])

    op.create_table(
        "reservations",
        sa.Column("key", _ID, nullable=False),
        sa.Column("order_id", _ID, nullable=False),
        sa.Column("node_id", _NODE_ID, nullable=False),
        sa.Column("sku", _SKU, nullable=False),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("expires_at", _TIMESTAMP),
        sa.Column("created_at", _TIMESTAMP, nullable=False),
        sa.Column("updated_at", _TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_reservations")),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_reservations_quantity_positive")),
    )
    op.create_index(op.f("ix_reservations_order_id"), "reservations", ["order_id"])
    op.create_index(op.f("ix_reservations_state_expires_at"), "reservations", ["state", "expires_at"])

    op.create_table(
        "inventory_ledger",
        sa.Column(
            "movement_id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("node_id", _NODE_ID, nullable=False),
        sa.Column("sku", _SKU, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("on_hand_delta", sa.Integer, nullable=False),
        sa.Column("reserved_delta", sa.Integer, nullable=False),
        sa.Column("key", _ID),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("created_at", _TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("movement_id", name=op.f("pk_inventory_ledger")),
        sa.ForeignKeyConstraint(
            ["node_id", "sku"],
            ["inventory_positions.node_id", "inventory_positions.sku"],
            name=op.f("fk_inventory_ledger_node_id_sku_inventory_positions"),
        ),
        sa.UniqueConstraint("kind", "key", name=op.f("uq_inventory_ledger_kind_key")),
    )
    op.create_index(op.f("ix_inventory_ledger_node_id_sku"), "inventory_ledger", ["node_id", "sku"])

    op.create_table(
        "orders",
        sa.Column("order_id", _ID, nullable=False),
        sa.Column("workflow_id", _ID, nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("channel_order_id", _ID, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("customer", sa.JSON, nullable=False),
        sa.Column("ship_to", sa.JSON, nullable=False),
        sa.Column("lines", sa.JSON, nullable=False),
        sa.Column("created_at", _TIMESTAMP, nullable=False),
        sa.Column("updated_at", _TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_orders")),
    )

    op.create_table(
        "shipments",
        sa.Column("shipment_id", _ID, nullable=False),
        sa.Column("order_id", _ID, nullable=False),
        sa.Column("node_id", _NODE_ID, nullable=False),
        sa.Column("lines", sa.JSON, nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("carrier", sa.String(64)),
        sa.Column("service", sa.String(64)),
        sa.Column("tracking_number", _ID),
        sa.Column("carrier_shipment_id", _ID),
        sa.Column("label_cost", sa.BigInteger),
        sa.Column("currency", sa.String(3)),
        sa.Column("shipped_at", _TIMESTAMP),
        sa.Column("delivered_at", _TIMESTAMP),
        sa.PrimaryKeyConstraint("shipment_id", name=op.f("pk_shipments")),
    )
    op.create_index(op.f("ix_shipments_order_id"), "shipments", ["order_id"])
    op.create_index(op.f("ix_shipments_tracking_number"), "shipments", ["tracking_number"])

    op.create_table(
        "returns",
        sa.Column("rma", sa.String(64), nullable=False),
        sa.Column("order_id", _ID, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("lines", sa.JSON, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("return_node_id", _NODE_ID),
        sa.Column("tracking_number", _ID),
        sa.Column("refund_amount", sa.BigInteger),
        sa.Column("currency", sa.String(3)),
        sa.Column("created_at", _TIMESTAMP, nullable=False),
        sa.Column("received_at", _TIMESTAMP),
        sa.PrimaryKeyConstraint("rma", name=op.f("pk_returns")),
    )
    op.create_index(op.f("ix_returns_order_id"), "returns", ["order_id"])


def downgrade() -> None:
    for table in ("returns", "shipments", "orders", "inventory_ledger", "reservations", "inventory_positions", "nodes"):
        op.drop_table(table)
