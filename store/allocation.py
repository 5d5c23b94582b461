"""Channel allocation rules, and the positions of many SKUs with their node kinds in one query."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa

from models.allocation import ChannelAllocation
from models.inventory import InventoryPosition
from models.network import NodeKind
from store.engine import Database
from store.safety_stock import position_columns
from store.tables import channel_allocations, inventory_positions, nodes


class AllocationRepository:
    """One rule per channel, stored as JSON; positions for availability answers."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def rule(self, channel: str) -> ChannelAllocation | None:
        query = sa.select(channel_allocations.c.rule).where(channel_allocations.c.channel == channel)
        with self._db.read() as connection:
            stored = connection.execute(query).scalar_one_or_none()
        return None if stored is None else ChannelAllocation.model_validate(stored)

    def set_rule(self, channel: str, rule: ChannelAllocation) -> ChannelAllocation:
        values = {"channel": channel, "rule": rule.model_dump(mode="json"), "updated_at": datetime.now(UTC)}
        statement = self._db.insert(channel_allocations).values(values)
        statement = statement.on_conflict_do_update(
            index_elements=[channel_allocations.c.channel],
            set_={"rule": statement.excluded.rule, "updated_at": statement.excluded.updated_at},
        )
        with self._db.write() as connection:
            connection.execute(statement)
        return rule

    def delete_rule(self, channel: str) -> bool:
        """Drop the channel's rule (it then sees all ATP); False if it had none."""
        with self._db.write() as connection:
            deleted = connection.execute(sa.delete(channel_allocations).where(channel_allocations.c.channel == channel))
        return deleted.rowcount > 0

    def stock(self, skus: Sequence[str]) -> tuple[list[InventoryPosition], dict[str, NodeKind]]:
        """Active nodes' positions for `skus` (by SKU, then node) and those nodes' kinds: one query."""
        if not skus:
            return [], {}
        query = (
            sa.select(*position_columns(), nodes.c.kind)
            .join(nodes, nodes.c.node_id == inventory_positions.c.node_id)
            .where(inventory_positions.c.sku.in_(list(set(skus))), nodes.c.active == sa.true())
            .order_by(inventory_positions.c.sku, inventory_positions.c.node_id)
        )
        with self._db.read() as connection:
            rows = connection.execute(query).all()
        positions = [
            InventoryPosition(
                node_id=row.node_id,
                sku=row.sku,
                on_hand=row.on_hand,
                reserved=row.reserved,
                safety_stock=row.safety_stock,
                updated_at=row.updated_at,
            )
            for row in rows
        ]
        return positions, {row.node_id: NodeKind(row.kind) for row in rows}
