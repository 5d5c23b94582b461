"""Inventory positions: WMS counts, safety stock, return restocks, and what is available to promise."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from models.audit import SYSTEM, Actor
from models.inventory import Availability, InventoryPosition, MovementKind, NodeAvailability
from models.limits import MAX_UNITS
from store import ledger
from store.engine import Database
from store.errors import InvalidQuantityError, StoreError
from store.network import require_node
from store.safety_stock import position_columns
from store.tables import inventory_ledger, inventory_positions, nodes

positions_table = inventory_positions.c


class InventoryRepository:
    """Positions per (node, sku). Each change is one short write transaction plus its ledger row."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def set_on_hand(
        self, node_id: str, sku: str, on_hand: int, *, source: str, reason: str, actor: Actor = SYSTEM
    ) -> InventoryPosition:
        """Record an absolute count; the ledger gets the difference from the previous on_hand."""
        if not 0 <= on_hand <= MAX_UNITS:
            raise InvalidQuantityError("on_hand", on_hand, f"0 to {MAX_UNITS}")
        with self._db.write() as connection:
            require_node(connection, node_id)
            current = self._lock_or_create(connection, node_id, sku)
            position = self._update(connection, node_id, sku, on_hand=on_hand)
            ledger.append(
                connection,
                [
                    ledger.MovementIn(
                        node_id, sku, MovementKind.COUNT, on_hand - current.on_hand, 0, None, reason, source,
                        actor=actor,
                    )
                ],
            )
        return position

    def set_safety_stock(
        self, node_id: str, sku: str, safety_stock: int, *, source: str, actor: Actor = SYSTEM
    ) -> InventoryPosition:
        """Set the units held back from ATP. Logged as a zero-delta adjustment so the ledger knows the position."""
        if not 0 <= safety_stock <= MAX_UNITS:
            raise InvalidQuantityError("safety_stock", safety_stock, f"0 to {MAX_UNITS}")
        with self._db.write() as connection:
            require_node(connection, node_id)
            current = self._lock_or_create(connection, node_id, sku)
            position = self._update(connection, node_id, sku, safety_stock=safety_stock, safety_stock_explicit=True)
            reason = f"safety stock {current.safety_stock} -> {safety_stock}"
            ledger.append(
                connection,
                [ledger.MovementIn(node_id, sku, MovementKind.ADJUSTMENT, 0, 0, None, reason, source, actor=actor)],
            )
        return position

    def restock(
        self, node_id: str, sku: str, quantity: int, *, key: str, source: str, reason: str
    ) -> InventoryPosition:
        """Put returned units back on hand, once per `key`.

        A key seen before changes nothing and returns the position that key restocked.
        """
        if quantity <= 0:
            raise InvalidQuantityError("quantity", quantity, "positive")
        try:
            with self._db.write() as connection:
                require_node(connection, node_id)
                if ledger.find(connection, MovementKind.RETURN_RESTOCK, key) is None:
                    current = self._lock_or_create(connection, node_id, sku)
                    movement = ledger.MovementIn(
                        node_id, sku, MovementKind.RETURN_RESTOCK, quantity, 0, key, reason, source,
                        actor=ledger.default_actor(source),
                    )
                    if ledger.append_once(connection, self._db.insert(inventory_ledger), movement):
                        return self._update(connection, node_id, sku, on_hand=current.on_hand + quantity)
                # Roll back, so that a position created just now for a key already used does not stay
                # behind without a ledger row.
                raise _AlreadyRestocked
        except _AlreadyRestocked:
            with self._db.read() as connection:
                earlier = ledger.find(connection, MovementKind.RETURN_RESTOCK, key)
                if earlier is None:  # cannot happen: the conflicting restock had committed
                    raise StoreError(f"restock key {key!r} conflicted but is not in the ledger") from None
                return read_position(connection, earlier.node_id, earlier.sku)

    def positions(self, skus: Sequence[str]) -> list[InventoryPosition]:
        """Every active node's position for `skus`, ordered by SKU then node."""
        if not skus:
            return []
        query = (
            sa.select(*position_columns())
            .join(nodes, nodes.c.node_id == positions_table.node_id)
            .where(positions_table.sku.in_(list(skus)), nodes.c.active == sa.true())
            .order_by(positions_table.sku, positions_table.node_id)
        )
        with self._db.read() as connection:
            return [_position(row) for row in connection.execute(query)]

    def availability(self, sku: str) -> Availability:
        """ATP of `sku` per active node (ordered by node id) and in total."""
        per_node = [
            NodeAvailability(
                node_id=p.node_id, atp=p.atp, on_hand=p.on_hand, reserved=p.reserved, safety_stock=p.safety_stock
            )
            for p in sorted(self.positions([sku]), key=lambda p: p.node_id)
        ]
        return Availability(sku=sku, total_atp=sum(n.atp for n in per_node), nodes=per_node)

    def _lock_or_create(self, connection: Connection, node_id: str, sku: str) -> sa.Row[Any]:
        create = (
            self._db.insert(inventory_positions)
            .values(node_id=node_id, sku=sku, on_hand=0, reserved=0, safety_stock=0, updated_at=datetime.now(UTC))
            .on_conflict_do_nothing(index_elements=["node_id", "sku"])
        )
        connection.execute(create)
        return lock_position(self._db, connection, node_id, sku)

    def _update(self, connection: Connection, node_id: str, sku: str, **values: int) -> InventoryPosition:
        statement = (
            sa.update(inventory_positions)
            .where(positions_table.node_id == node_id, positions_table.sku == sku)
            .values(updated_at=datetime.now(UTC), **values)
        )
        connection.execute(statement)
        return read_position(connection, node_id, sku)


class _AlreadyRestocked(Exception):
    """The restock key was used before: roll the transaction back."""


def lock_position(database: Database, connection: Connection, node_id: str, sku: str) -> sa.Row[Any]:
    """The position row, locked for the rest of the caller's write transaction."""
    query = sa.select(inventory_positions).where(positions_table.node_id == node_id, positions_table.sku == sku)
    return connection.execute(database.for_update(query)).one()


def read_position(connection: Connection, node_id: str, sku: str) -> InventoryPosition:
    """One existing position, with its effective safety stock."""
    query = sa.select(*position_columns()).where(positions_table.node_id == node_id, positions_table.sku == sku)
    return _position(connection.execute(query).one())


def atp_of(connection: Connection, node_id: str, sku: str) -> int:
    """Current ATP at one position; 0 for a missing position or an inactive node."""
    query = (
        sa.select(*position_columns())
        .join(nodes, nodes.c.node_id == positions_table.node_id)
        .where(positions_table.node_id == node_id, positions_table.sku == sku, nodes.c.active == sa.true())
    )
    row = connection.execute(query).one_or_none()
    return 0 if row is None else _position(row).atp


def _position(row: sa.Row[Any]) -> InventoryPosition:
    return InventoryPosition(
        node_id=row.node_id,
        sku=row.sku,
        on_hand=row.on_hand,
        reserved=row.reserved,
        safety_stock=row.safety_stock,
        updated_at=row.updated_at,
    )
