"""Channel allocation rules, the stock a channel's open reservations hold, the bound those rules put on
the channel's reservations, and the positions of many SKUs with their node kinds in one query.

A reservation belongs to the channel of its order: order ids are `{channel}-{channel_order_id}`
(`models.order.order_id_for`) and a channel name has no '-', so the channel's reservations are those
whose order id starts with its name and a '-'.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from models.allocation import ChannelAllocation
from models.inventory import InventoryPosition, ReservationItem, ReservationState
from models.network import NodeKind
from models.order import channel_of_order
from store.engine import Database
from store.safety_stock import effective_safety_stock, position_columns
from store.tables import channel_allocations, inventory_positions, nodes, reservations

positions_table = inventory_positions.c
reservations_table = reservations.c


class AllocationRepository:
    """One rule per channel, stored as JSON; positions for availability answers."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def rule(self, channel: str) -> ChannelAllocation | None:
        with self._db.read() as connection:
            return rule_of(connection, channel)

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

    def reserved_by(self, channel: str, skus: Sequence[str]) -> dict[tuple[str, str], int]:
        """Units of `skus` the channel's open (active) reservations take, per (node id, SKU) that has any."""
        if not skus:
            return {}
        query = (
            sa.select(reservations_table.node_id, reservations_table.sku, sa.func.sum(reservations_table.quantity))
            .where(
                reservations_table.sku.in_(list(set(skus))),
                reservations_table.state == ReservationState.ACTIVE.value,
                _of_channel(sa.literal(f"{channel}-", sa.String)),
            )
            .group_by(reservations_table.node_id, reservations_table.sku)
        )
        with self._db.read() as connection:
            return {(node_id, sku): int(units) for node_id, sku, units in connection.execute(query)}

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


def rule_of(connection: Connection, channel: str) -> ChannelAllocation | None:
    """The channel's allocation rule as the caller's transaction sees it."""
    stored = connection.execute(_statements().rule, {"c_channel": channel}).scalar_one_or_none()
    return None if stored is None else ChannelAllocation.model_validate(stored)


@dataclass(frozen=True)
class ChannelBound:
    """What an order's reservations are held to: its channel's allocation rule (`ChannelAllocation.shows`
    and `.allowance`, the same arithmetic availability shows the channel)."""

    channel: str
    rule: ChannelAllocation

    @classmethod
    def of_order(cls, connection: Connection, order_id: str) -> ChannelBound | None:
        """The bound on `order_id`'s reservations; None when its channel has no rule (nothing but ATP
        bounds them then)."""
        channel = channel_of_order(order_id)
        rule = None if channel is None else rule_of(connection, channel)
        return None if channel is None or rule is None else cls(channel, rule)

    def admits(self, connection: Connection, item: ReservationItem) -> bool:
        """Whether the channel may take `item` (whose key the caller has just claimed). On PostgreSQL its
        position is locked first and the allowance read in a statement of its own: every reservation and
        release at a position updates that position's row, so once the lock is ours no other reservation
        there is in flight, and a statement begun after the lock was granted (READ COMMITTED) sees all of
        them committed. SQLite's write transaction holds the whole file already."""
        if connection.dialect.name == "postgresql":
            locked = connection.execute(_statements().lock, {"r_node": item.node_id, "r_sku": item.sku})
            if locked.one_or_none() is None:
                return False
        return self.allowance(connection, item) >= item.quantity

    def allowance(self, connection: Connection, item: ReservationItem) -> int:
        """What the channel may still reserve of the item's SKU at its node, the channel's open
        reservations there (but the item's own key) counting against it; 0 at a node the rule hides, at
        an inactive node, or where there is no position."""
        params = {"r_node": item.node_id, "r_sku": item.sku, "r_key": item.key, "c_prefix": f"{self.channel}-"}
        row = connection.execute(_statements().position, params).one_or_none()
        if row is None or not row.active or not self.rule.shows(item.node_id, NodeKind(row.kind)):
            return 0
        atp = max(0, row.on_hand - row.reserved - row.safety_stock)
        return self.rule.allowance(atp, int(row.own_reserved))


@dataclass(frozen=True)
class _Statements:
    rule: sa.Select[Any]
    lock: sa.Select[Any]
    position: sa.Select[Any]


@functools.cache
def _statements() -> _Statements:
    """The bound's statements, built once (building a statement costs more than running it on SQLite)."""
    node, sku = sa.bindparam("r_node", type_=sa.String), sa.bindparam("r_sku", type_=sa.String)
    own = sa.select(sa.func.coalesce(sa.func.sum(reservations_table.quantity), 0)).where(
        reservations_table.node_id == node,
        reservations_table.sku == sku,
        reservations_table.state == ReservationState.ACTIVE.value,
        _of_channel(sa.bindparam("c_prefix", type_=sa.String)),
        reservations_table.key != sa.bindparam("r_key", type_=sa.String),
    )
    at_position = (positions_table.node_id == node, positions_table.sku == sku)
    return _Statements(
        rule=sa.select(channel_allocations.c.rule).where(
            channel_allocations.c.channel == sa.bindparam("c_channel", type_=sa.String)),
        lock=sa.select(positions_table.node_id).where(*at_position).with_for_update(),
        position=(
            sa.select(
                positions_table.on_hand, positions_table.reserved, effective_safety_stock().label("safety_stock"),
                nodes.c.kind, nodes.c.active, own.scalar_subquery().label("own_reserved"),
            )
            .join(nodes, nodes.c.node_id == positions_table.node_id)
            .where(*at_position)
        ),
    )


def _of_channel(prefix: sa.ColumnElement[str]) -> sa.ColumnElement[bool]:
    """Reservations of orders whose ids start with `prefix`, a channel's name and a '-' (see the module
    docstring). Not LIKE: '_' is a wildcard there, and SQLite's LIKE ignores case."""
    return sa.func.substr(reservations_table.order_id, 1, sa.func.length(prefix)) == prefix
