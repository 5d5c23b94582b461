"""Effective safety stock: a position's own, else its node's default, else its node kind's, else 0.

The effective value is one SQL expression, used by every ATP read and by the reserve's conditional
UPDATE alike, so what availability shows and what a reservation may take can never disagree, and a
default changed while orders reserve applies to the very next reservation.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from models.allocation import SafetyStockDefaults
from models.network import NodeKind
from store.engine import Database
from store.errors import UnknownNodeError
from store.tables import inventory_positions, nodes, safety_stock_defaults

NODE_SCOPE = "node"
KIND_SCOPE = "kind"


def effective_safety_stock() -> sa.ColumnElement[int]:
    """The safety stock in force at the inventory_positions row of the enclosing statement."""
    position = inventory_positions.c
    node_default = safety_stock_defaults.alias("ss_node_default")
    kind_default = safety_stock_defaults.alias("ss_kind_default")
    # An alias of nodes of its own, so that a query that joins nodes itself does not correlate it away.
    kind_node = nodes.alias("ss_kind_node")
    by_node = (
        sa.select(node_default.c.safety_stock)
        .where(node_default.c.scope == NODE_SCOPE, node_default.c.target == position.node_id)
        .correlate_except(node_default)
        .scalar_subquery()
    )
    by_kind = (
        sa.select(kind_default.c.safety_stock)
        .select_from(kind_default.join(kind_node, kind_node.c.kind == kind_default.c.target))
        .where(kind_default.c.scope == KIND_SCOPE, kind_node.c.node_id == position.node_id)
        .correlate_except(kind_default, kind_node)
        .scalar_subquery()
    )
    return sa.case(
        (position.safety_stock_explicit == sa.true(), position.safety_stock),
        else_=sa.func.coalesce(by_node, by_kind, 0),
    )


def position_columns() -> list[Any]:
    """inventory_positions' columns for reading a position, safety_stock being the effective one."""
    position = inventory_positions.c
    return [
        position.node_id,
        position.sku,
        position.on_hand,
        position.reserved,
        effective_safety_stock().label("safety_stock"),
        position.updated_at,
    ]


class SafetyStockDefaultsRepository:
    """The defaults, read and replaced as a whole."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def get(self) -> SafetyStockDefaults:
        with self._db.read() as connection:
            rows = connection.execute(sa.select(safety_stock_defaults)).all()
        return SafetyStockDefaults(
            by_kind={NodeKind(row.target): row.safety_stock for row in rows if row.scope == KIND_SCOPE},
            by_node={row.target: row.safety_stock for row in rows if row.scope == NODE_SCOPE},
        )

    def replace(self, defaults: SafetyStockDefaults) -> SafetyStockDefaults:
        """Make `defaults` the only defaults. UnknownNodeError for a node id not in the network."""
        now = datetime.now(UTC)
        rows = [
            {"scope": KIND_SCOPE, "target": kind.value, "safety_stock": units, "updated_at": now}
            for kind, units in defaults.by_kind.items()
        ] + [
            {"scope": NODE_SCOPE, "target": node_id, "safety_stock": units, "updated_at": now}
            for node_id, units in defaults.by_node.items()
        ]
        with self._db.write() as connection:
            known = set(
                connection.execute(sa.select(nodes.c.node_id).where(nodes.c.node_id.in_(list(defaults.by_node))))
                .scalars()
                .all()
            )
            for node_id in sorted(defaults.by_node):
                if node_id not in known:
                    raise UnknownNodeError(node_id)
            connection.execute(sa.delete(safety_stock_defaults))
            if rows:
                connection.execute(safety_stock_defaults.insert(), rows)
        return self.get()
