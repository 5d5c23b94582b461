"""Reservations: the ledger's conditional writes that keep the network from overselling, and a channel
from reserving past its allocation rule.

Locks are always taken in one order (reservation keys sorted, then positions sorted by node and
SKU) so that concurrent callers on Postgres queue behind each other instead of deadlocking; an item
claims its key before it locks its position, with or without a channel's rule to check.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.engine import Connection

from models.inventory import MovementKind, ReservationItem, ReservationState, ReserveResult, Shortfall
from store import ledger
from store.allocation import ChannelBound
from store.engine import Database
from store.inventory import atp_of, lock_position
from store.reserve_paths import ItemCall, Outcome, ReservePath, reserve_path_for
from store.tables import inventory_ledger, inventory_positions, reservations

positions_table = inventory_positions.c
reservations_table = reservations.c


class ReservationView(BaseModel):
    """One reservation as the ledger keeps it."""

    key: str
    order_id: str
    node_id: str
    sku: str
    quantity: int
    state: ReservationState
    expires_at: datetime | None = None


class _NotEnoughStock(Exception):
    """Raised inside the write transaction to roll every item back."""

    def __init__(self, items: list[ReservationItem]) -> None:
        super().__init__(f"{len(items)} items short")
        self.items = items


class ReservationRepository:
    """reserve / commit / release, each one short write transaction, each idempotent by key."""

    def __init__(self, database: Database) -> None:
        self._db = database
        self._reserve_path: ReservePath | None = None

    def reserve(
        self, items: Sequence[ReservationItem], *, order_id: str, expires_at: datetime | None, source: str
    ) -> ReserveResult:
        """Reserve every item or none. Keys seen before (in any state) count as reserved."""
        return self.replace((), items, order_id=order_id, expires_at=expires_at, source=source, reason="")

    def replace(
        self, release_keys: Sequence[str], items: Sequence[ReservationItem], *, order_id: str,
        expires_at: datetime | None, source: str, reason: str,
    ) -> ReserveResult:
        """Release `release_keys` and reserve `items` in one transaction, or change nothing (the units
        released count towards the new reservations). Idempotent like `reserve` and `release`.

        When the order's channel has an allocation rule, a new item also needs the channel's allowance at
        its node (`ChannelBound`): none at a node the rule hides, and the channel's open reservations there
        count against its share. Past it, the item is short like one that ATP cannot cover."""
        try:
            with self._db.write() as connection:
                self._settle_in(connection, release_keys, ReservationState.RELEASED, MovementKind.RELEASE,
                                source=source, reason=reason)
                failed = self._reserve_in(connection, items, order_id, expires_at, source)
                if failed:
                    raise _NotEnoughStock(failed)
        except _NotEnoughStock as short:
            return self._short(short.items, order_id)
        return ReserveResult(ok=True)

    def _short(self, items: Sequence[ReservationItem], order_id: str) -> ReserveResult:
        """The failed result: what each short item asked for and what it could have had after the
        rollback (the ATP, or the channel's allowance when a rule bounds the order)."""
        with self._db.read() as connection:
            bound = ChannelBound.of_order(connection, order_id)
            shortfalls = [Shortfall(node_id=i.node_id, sku=i.sku, requested=i.quantity,
                                    available=_available(connection, bound, i)) for i in items]
        return ReserveResult(ok=False, shortfalls=shortfalls)

    def commit(self, keys: Sequence[str], *, source: str) -> None:
        """Active reservations leave the building: on_hand and reserved both drop by the quantity."""
        self._settle(keys, ReservationState.COMMITTED, MovementKind.COMMIT, source=source, reason="shipped")

    def release(self, keys: Sequence[str], *, source: str, reason: str) -> None:
        """Active reservations give their units back to ATP."""
        self._settle(keys, ReservationState.RELEASED, MovementKind.RELEASE, source=source, reason=reason)

    def short_pick(self, key: str, short: int, *, source: str, reason: str) -> int:
        """The node found `short` fewer units than reservation `key` holds: the reservation shrinks by
        them (released when none are left) and on_hand drops by them too, since the count that promised
        them was wrong; ATP stays truthful. Once per key (a retry changes nothing); a key no longer
        active changes nothing. Returns the units written off."""
        if short <= 0:
            return 0
        now = datetime.now(UTC)
        with self._db.write() as connection:
            row = connection.execute(
                sa.select(reservations).where(reservations_table.key == key,
                                              reservations_table.state == ReservationState.ACTIVE.value)
            ).one_or_none()
            if row is None:
                return 0
            short = min(short, row.quantity)
            position = lock_position(self._db, connection, row.node_id, row.sku)
            written_off = min(short, position.on_hand)
            movement = ledger.MovementIn(row.node_id, row.sku, MovementKind.SHORT_PICK, -written_off, -short, key,
                                         reason, source, actor=ledger.default_actor(source, row.order_id))
            if not ledger.append_once(connection, self._db.insert(inventory_ledger), movement):
                return 0
            left = row.quantity - short
            connection.execute(
                sa.update(reservations).where(reservations_table.key == key)
                .values(quantity=left if left > 0 else row.quantity,
                        state=ReservationState.ACTIVE.value if left > 0 else ReservationState.RELEASED.value,
                        updated_at=now))
            connection.execute(
                sa.update(inventory_positions)
                .where(positions_table.node_id == row.node_id, positions_table.sku == row.sku)
                .values(on_hand=positions_table.on_hand - written_off, reserved=positions_table.reserved - short,
                        updated_at=now))
        return short

    def for_order(self, order_id: str) -> list[ReservationView]:
        query = (
            sa.select(reservations)
            .where(reservations_table.order_id == order_id)
            .order_by(reservations_table.created_at, reservations_table.key)
        )
        with self._db.read() as connection:
            return [_view(row) for row in connection.execute(query)]

    def orders_per_node_since(self, since: datetime) -> dict[str, int]:
        """How many orders reserved stock at each node since `since` (cancelled ones included: the
        warehouse may already have started on them). What a node's daily capacity is counted against."""
        query = (
            sa.select(reservations_table.node_id, sa.func.count(sa.distinct(reservations_table.order_id)))
            .where(reservations_table.created_at >= since)
            .group_by(reservations_table.node_id)
        )
        with self._db.read() as connection:
            return {node_id: count for node_id, count in connection.execute(query)}

    def expired(self, now: datetime, *, limit: int = 500) -> list[ReservationView]:
        """Active reservations whose expiry is at or before `now`, soonest first (for the sweep)."""
        query = (
            sa.select(reservations)
            .where(
                reservations_table.state == ReservationState.ACTIVE.value,
                reservations_table.expires_at <= now,
            )
            .order_by(reservations_table.expires_at, reservations_table.key)
            .limit(limit)
        )
        with self._db.read() as connection:
            return [_view(row) for row in connection.execute(query)]

    def _reserve_in(
        self,
        connection: Connection,
        items: Sequence[ReservationItem],
        order_id: str,
        expires_at: datetime | None,
        source: str,
    ) -> list[ReservationItem]:
        """Reserve item by item in lock order; the first item ATP cannot cover ends the attempt (the
        caller rolls everything back) and is reported with the rest not yet tried."""
        if not items:
            return []
        now = datetime.now(UTC)
        reason = f"order {order_id}"
        actor = ledger.default_actor(source, order_id).tag
        ordered = sorted(items, key=lambda i: (i.node_id, i.sku, i.key))
        bound = ChannelBound.of_order(connection, order_id)
        guard = None if bound is None else bound.admits
        for index, item in enumerate(ordered):
            call = ItemCall(item, order_id, expires_at, source, reason, now, actor)
            if self._path(connection).reserve(connection, call, guard) is Outcome.SHORT:
                return [item, *self._uncovered(connection, bound, ordered[index + 1:])]
        return []

    def _path(self, connection: Connection) -> ReservePath:
        if self._reserve_path is None:
            self._reserve_path = reserve_path_for(connection.dialect)
        return self._reserve_path

    @staticmethod
    def _uncovered(
        connection: Connection, bound: ChannelBound | None, rest: Sequence[ReservationItem]
    ) -> list[ReservationItem]:
        """The items after the failing one whose quantity ATP (or the channel's allowance) would not
        cover either (so that the shortfall lists every short item, not only the first)."""
        return [item for item in rest if _available(connection, bound, item) < item.quantity]

    def _settle(
        self, keys: Sequence[str], target: ReservationState, kind: MovementKind, *, source: str, reason: str
    ) -> None:
        if not keys:
            return
        with self._db.write() as connection:
            self._settle_in(connection, keys, target, kind, source=source, reason=reason)

    def _settle_in(
        self, connection: Connection, keys: Sequence[str], target: ReservationState, kind: MovementKind, *,
        source: str, reason: str,
    ) -> None:
        if not keys:
            return
        now = datetime.now(UTC)
        settled = [row for key in sorted(set(keys)) if (row := _transition(connection, key, target, now))]
        movements = []
        for row in sorted(settled, key=lambda r: (r.node_id, r.sku, r.key)):
            position = lock_position(self._db, connection, row.node_id, row.sku)
            # A count may have left fewer units on hand than were reserved: on_hand stops at zero,
            # and the ledger records what actually left.
            on_hand_delta = -min(row.quantity, position.on_hand) if kind is MovementKind.COMMIT else 0
            connection.execute(
                sa.update(inventory_positions)
                .where(positions_table.node_id == row.node_id, positions_table.sku == row.sku)
                .values(
                    on_hand=positions_table.on_hand + on_hand_delta,
                    reserved=positions_table.reserved - row.quantity,
                    updated_at=now,
                )
            )
            movements.append(
                ledger.MovementIn(row.node_id, row.sku, kind, on_hand_delta, -row.quantity, row.key, reason, source,
                                  actor=ledger.default_actor(source, row.order_id))
            )
        ledger.append(connection, movements)


def _transition(connection: Connection, key: str, target: ReservationState, now: datetime) -> sa.Row[Any] | None:
    """Move one active reservation to `target`; None if it is unknown or no longer active."""
    statement = (
        sa.update(reservations)
        .where(reservations_table.key == key, reservations_table.state == ReservationState.ACTIVE.value)
        .values(state=target.value, updated_at=now)
        .returning(
            reservations_table.key, reservations_table.node_id, reservations_table.sku, reservations_table.quantity,
            reservations_table.order_id,
        )
    )
    return connection.execute(statement).one_or_none()


def _available(connection: Connection, bound: ChannelBound | None, item: ReservationItem) -> int:
    """What `item` could take now: the ATP at its position, or the channel's allowance there."""
    if bound is None:
        return atp_of(connection, item.node_id, item.sku)
    return bound.allowance(connection, item)


def _view(row: sa.Row[Any]) -> ReservationView:
    return ReservationView(
        key=row.key,
        order_id=row.order_id,
        node_id=row.node_id,
        sku=row.sku,
        quantity=row.quantity,
        state=ReservationState(row.state),
        expires_at=row.expires_at,
    )
