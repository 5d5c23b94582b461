"""Inventory feeds in batches: WMS/POS/3PL counts and deltas, all applied or none.

A count overwrites on_hand, so one observed before the position last moved on hand (a receipt,
adjustment, commit, restock or another count after its `as_of`) would resurrect or erase units: it is
refused with the time of that movement. Reservations and releases do not move on_hand and do not
make a count stale.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from models.allocation import AppliedFeedItem, FeedKind, InventoryFeedItem
from models.audit import SYSTEM, Actor
from models.inventory import MovementKind
from models.limits import MAX_UNITS
from store import ledger
from store.engine import Database
from store.errors import StoreError
from store.inventory import lock_position
from store.tables import inventory_ledger, inventory_positions, nodes

ledger_table = inventory_ledger.c


class FeedItemError(StoreError):
    """Item `index` of a batch cannot apply; `field` names the part at fault. Nothing was applied."""

    def __init__(self, index: int, field: str, message: str) -> None:
        super().__init__(f"items[{index}].{field}: {message}")
        self.index = index
        self.field = field
        self.message = message


class StaleCountError(FeedItemError):
    """A count observed (`as_of`) before the position's last on-hand movement. Nothing was applied."""

    def __init__(self, index: int, as_of: datetime, last_movement_at: datetime) -> None:
        super().__init__(
            index,
            "as_of",
            f"count as of {as_of.isoformat()} is older than the position's last movement at "
            f"{last_movement_at.isoformat()}",
        )
        self.as_of = as_of
        self.last_movement_at = last_movement_at


class FeedRepository:
    """Applies a batch of feed items in one write transaction (see the module docstring)."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def apply(self, items: Sequence[InventoryFeedItem], *, actor: Actor = SYSTEM) -> list[AppliedFeedItem]:
        """Every item in request order, or none: FeedItemError (or StaleCountError) names the first bad one.
        Each movement names `actor` (the key that sent the batch; the system for a sync's pull)."""
        now = datetime.now(UTC)
        with self._db.write() as connection:
            self._require_nodes(connection, items)
            on_hand: dict[tuple[str, str], int] = {}
            # Locks in one order (node, then SKU), so that two batches on Postgres queue instead of deadlocking.
            for node_id, sku in sorted({(item.node_id, item.sku) for item in items}):
                on_hand[(node_id, sku)] = self._lock_or_create(connection, node_id, sku, now)
            applied = [self._apply_one(connection, index, item, on_hand, now, actor)
                       for index, item in enumerate(items)]
            for (node_id, sku), units in on_hand.items():
                connection.execute(
                    sa.update(inventory_positions)
                    .where(inventory_positions.c.node_id == node_id, inventory_positions.c.sku == sku)
                    .values(on_hand=units, updated_at=now)
                )
        return applied

    def _apply_one(
        self,
        connection: Connection,
        index: int,
        item: InventoryFeedItem,
        on_hand: dict[tuple[str, str], int],
        now: datetime,
        actor: Actor,
    ) -> AppliedFeedItem:
        position = (item.node_id, item.sku)
        before = on_hand[position]
        kind = item.feed_kind
        if item.key is not None and (seen := ledger.find(connection, MovementKind(kind.value), item.key)) is not None:
            # The sender's retry of an item already applied (in an earlier batch or earlier in this one).
            return AppliedFeedItem(node_id=item.node_id, sku=item.sku, kind=kind,
                                   on_hand_delta=seen.on_hand_delta, on_hand=before, replayed=True)
        if item.on_hand is not None:
            if item.as_of is not None:
                last = last_on_hand_movement_at(connection, item.node_id, item.sku)
                if last is not None and item.as_of < last:
                    raise StaleCountError(index, item.as_of, last)
            after = item.on_hand
        else:
            after = before + (item.delta or 0)
            if not 0 <= after <= MAX_UNITS:
                raise FeedItemError(
                    index, "delta", f"would take on_hand of {item.sku} at {item.node_id} from {before} to {after}"
                    f" (on_hand is 0 to {MAX_UNITS})"
                )
        on_hand[position] = after
        connection.execute(
            inventory_ledger.insert().values(
                node_id=item.node_id,
                sku=item.sku,
                kind=kind.value,
                on_hand_delta=after - before,
                reserved_delta=0,
                key=item.key,
                reason=item.reason or _DEFAULT_REASON[kind],
                source=item.source,
                created_at=now,
                as_of=item.as_of,
                actor=actor.tag,
            )
        )
        return AppliedFeedItem(
            node_id=item.node_id, sku=item.sku, kind=kind, on_hand_delta=after - before, on_hand=after
        )

    def _require_nodes(self, connection: Connection, items: Sequence[InventoryFeedItem]) -> None:
        wanted = {item.node_id for item in items}
        known = set(connection.execute(sa.select(nodes.c.node_id).where(nodes.c.node_id.in_(wanted))).scalars())
        for index, item in enumerate(items):
            if item.node_id not in known:
                raise FeedItemError(index, "node_id", f"unknown node {item.node_id!r}: add it to the network first")

    def _lock_or_create(self, connection: Connection, node_id: str, sku: str, now: datetime) -> int:
        create = (
            self._db.insert(inventory_positions)
            .values(node_id=node_id, sku=sku, on_hand=0, reserved=0, safety_stock=0, updated_at=now)
            .on_conflict_do_nothing(index_elements=["node_id", "sku"])
        )
        connection.execute(create)
        current: int = lock_position(self._db, connection, node_id, sku).on_hand
        return current


_DEFAULT_REASON = {FeedKind.COUNT: "count", FeedKind.RECEIPT: "receipt", FeedKind.ADJUSTMENT: "adjustment"}


def last_on_hand_movement_at(connection: Connection, node_id: str, sku: str) -> datetime | None:
    """When the position's on_hand last moved (a movement's as_of when it had one, else when it was written)."""
    moved_on_hand = sa.or_(ledger_table.on_hand_delta != 0, ledger_table.kind == MovementKind.COUNT.value)
    query = sa.select(sa.func.max(sa.func.coalesce(ledger_table.as_of, ledger_table.created_at))).where(
        ledger_table.node_id == node_id, ledger_table.sku == sku, moved_on_hand
    )
    value = connection.execute(query).scalar_one_or_none()
    if value is None:
        return None
    # max() over a TypeDecorator comes back raw on SQLite (a string): normalise through the column type.
    return _as_utc(value)


def _as_utc(value: object) -> datetime:
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
