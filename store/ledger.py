"""The append-only inventory ledger: every change to a position is one row here.

Rows are only ever inserted. Replaying them (summing the deltas per position) must give back
every position's on_hand and reserved; tests hold the store to that.

Every row names its actor (models.audit.Actor): the gateway key that sent a count or a feed, else
the workflow the movement was made for (`default_actor`), else the system.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from models.audit import SYSTEM, Actor
from models.inventory import MovementKind
from models.names import order_workflow_id, return_workflow_id
from models.records import Movement
from store.tables import inventory_ledger, reservations

# The movements an order's reservations make.
RESERVATION_KINDS = (MovementKind.RESERVE, MovementKind.COMMIT, MovementKind.RELEASE, MovementKind.SHORT_PICK)


@dataclass(frozen=True)
class MovementIn:
    """A movement about to be appended (the ledger assigns id and time)."""

    node_id: str
    sku: str
    kind: MovementKind
    on_hand_delta: int = 0
    reserved_delta: int = 0
    key: str | None = None
    reason: str = ""
    source: str = ""
    as_of: datetime | None = None
    actor: Actor = SYSTEM


def default_actor(source: str, order_id: str | None = None) -> Actor:
    """Who made a movement no key asked for: the workflow its source names (`order:<id>`,
    `return:<rma>`), else the workflow of the order whose reservation moved (commits by its
    fulfilments, releases by its cancels or by the expiry sweep, whose `source` says so), else the
    system (feeds pulled by syncs, scripts)."""
    kind, _, ident = source.partition(":")
    if kind == "order" and ident:
        return Actor.workflow(order_workflow_id(ident))
    if kind == "return" and ident:
        return Actor.workflow(return_workflow_id(ident))
    if order_id is not None:
        return Actor.workflow(order_workflow_id(order_id))
    return SYSTEM


def append(connection: Connection, movements: Sequence[MovementIn]) -> None:
    """Insert `movements` inside the caller's transaction, stamped with the same time."""
    if not movements:
        return
    now = datetime.now(UTC)
    connection.execute(
        inventory_ledger.insert(),
        [
            {
                "node_id": m.node_id,
                "sku": m.sku,
                "kind": m.kind.value,
                "on_hand_delta": m.on_hand_delta,
                "reserved_delta": m.reserved_delta,
                "key": m.key,
                "reason": m.reason,
                "source": m.source,
                "created_at": now,
                "as_of": m.as_of,
                "actor": m.actor.tag,
            }
            for m in movements
        ],
    )


def read(connection: Connection, *, node_id: str | None = None, sku: str | None = None) -> list[Movement]:
    """Movements, oldest first, optionally for one node and/or one SKU."""
    query = sa.select(inventory_ledger).order_by(inventory_ledger.c.movement_id)
    if node_id is not None:
        query = query.where(inventory_ledger.c.node_id == node_id)
    if sku is not None:
        query = query.where(inventory_ledger.c.sku == sku)
    return [_movement(row) for row in connection.execute(query)]


def for_order(connection: Connection, order_id: str) -> list[Movement]:
    """The movements of the order's reservations (reserve, commit, release, short pick), oldest first."""
    ledger = inventory_ledger.c
    query = (
        sa.select(inventory_ledger)
        .join(reservations, reservations.c.key == ledger.key)
        .where(reservations.c.order_id == order_id, ledger.kind.in_([kind.value for kind in RESERVATION_KINDS]))
        .order_by(ledger.movement_id)
    )
    return [_movement(row) for row in connection.execute(query)]


def find(connection: Connection, kind: MovementKind, key: str) -> Movement | None:
    """The movement of `kind` recorded under `key`, if any."""
    query = sa.select(inventory_ledger).where(inventory_ledger.c.kind == kind.value, inventory_ledger.c.key == key)
    row = connection.execute(query).one_or_none()
    return None if row is None else _movement(row)


def replay(connection: Connection) -> dict[tuple[str, str], tuple[int, int]]:
    """(node_id, sku) -> (on_hand, reserved), recomputed from the ledger alone."""
    ledger = inventory_ledger.c
    query = sa.select(
        ledger.node_id, ledger.sku, sa.func.sum(ledger.on_hand_delta), sa.func.sum(ledger.reserved_delta)
    ).group_by(ledger.node_id, ledger.sku)
    return {
        (node_id, sku): (int(on_hand), int(reserved)) for node_id, sku, on_hand, reserved in connection.execute(query)
    }


def append_once(connection: Connection, insert: Any, movement: MovementIn) -> bool:
    """Append `movement` unless one of the same kind and key exists; True if it was appended.

    `insert` is the dialect's ON CONFLICT-capable insert of the ledger table. On Postgres a
    concurrent caller with the same key waits here for the first one's transaction to end.
    """
    statement = insert.values(
        node_id=movement.node_id,
        sku=movement.sku,
        kind=movement.kind.value,
        on_hand_delta=movement.on_hand_delta,
        reserved_delta=movement.reserved_delta,
        key=movement.key,
        reason=movement.reason,
        source=movement.source,
        created_at=datetime.now(UTC),
        as_of=movement.as_of,
        actor=movement.actor.tag,
    )
    statement = statement.on_conflict_do_nothing(index_elements=["kind", "key"]).returning(
        inventory_ledger.c.movement_id
    )
    return connection.execute(statement).first() is not None


def _movement(row: sa.Row[Any]) -> Movement:
    return Movement(
        movement_id=row.movement_id,
        node_id=row.node_id,
        sku=row.sku,
        kind=MovementKind(row.kind),
        on_hand_delta=row.on_hand_delta,
        reserved_delta=row.reserved_delta,
        key=row.key,
        reason=row.reason,
        source=row.source,
        created_at=row.created_at,
        as_of=row.as_of,
        actor=Actor.from_tag(row.actor),
    )


def skus_moved_since(connection: Connection, after: int | None, *, limit: int) -> tuple[list[str], int]:
    """The SKUs with movements after movement id `after` (the ledger as a change feed), at most
    `limit` movements read, and the id to continue after. With `after` None: nothing, and the
    newest id, so a new reader starts from now."""
    movement = inventory_ledger.c
    if after is None:
        newest = connection.execute(sa.select(sa.func.max(movement.movement_id))).scalar_one_or_none()
        return [], newest or 0
    rows = connection.execute(
        sa.select(movement.movement_id, movement.sku)
        .where(movement.movement_id > after)
        .order_by(movement.movement_id)
        .limit(limit)
    ).all()
    if not rows:
        return [], after
    return sorted({row.sku for row in rows}), rows[-1].movement_id
