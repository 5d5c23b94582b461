"""The hot path of a reservation, one item at a time, in the shape each database runs fastest.

Every item does the same three things inside the caller's write transaction: claim its key (the
insert is the idempotency check: a key seen before, in any state, is left alone), take the units
with the conditional UPDATE (only while ATP covers them at an active node), and append the
reserve movement to the ledger. What differs is how those reach the database:

- PostgreSQL: one statement, a data-modifying CTE (claim → conditional update → ledger row), so an
  item costs one round trip instead of three.
- SQLite: the three statements go straight to the sqlite3 cursor. SQLite has no data-modifying
  CTEs and no round trips; what an item costs is the Python around each statement, and going
  through SQLAlchemy's execution machinery three times cost several times the SQL itself.

Both are compiled once per store from the Core tables, so tables.py stays the single description
of the schema, and the SQL is the same conditional write the rest of the store uses
(`effective_safety_stock()` included).

An order whose channel has an allocation rule passes a guard (`store.allocation.ChannelBound.admits`),
which runs between the claim and the conditional update: a key seen before is still left alone
without asking it, and a new one takes no units the guard refuses. On PostgreSQL the claim and the
update then go as separate statements, since the guard must read after it has locked the position.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from models.inventory import MovementKind, ReservationItem, ReservationState
from store.safety_stock import effective_safety_stock
from store.tables import inventory_ledger, inventory_positions, nodes, reservations

positions = inventory_positions.c


Guard = Callable[[Connection, ReservationItem], bool]
"""Whether a newly claimed item may take its units, asked inside the reservation's transaction."""


class Outcome(enum.Enum):
    RESERVED = "reserved"  # claimed now, units taken, movement recorded
    SEEN_BEFORE = "seen_before"  # the key was claimed earlier: nothing to do
    SHORT = "short"  # claimed now but ATP did not cover it: the caller must roll back


@dataclass(frozen=True)
class ItemCall:
    """Everything one item's reservation writes."""

    item: ReservationItem
    order_id: str
    expires_at: datetime | None
    source: str
    reason: str
    now: datetime
    actor: str  # models.audit.Actor's tag

    def params(self) -> dict[str, Any]:
        item = self.item
        return {
            "r_key": item.key,
            "r_order": self.order_id,
            "r_node": item.node_id,
            "r_sku": item.sku,
            "r_quantity": item.quantity,
            "r_expires": self.expires_at,
            "r_now": self.now,
            "r_reason": self.reason,
            "r_source": self.source,
            "r_actor": self.actor,
        }


class ReservePath:
    """Runs one item's claim + conditional update + ledger row inside the caller's transaction."""

    def reserve(self, connection: Connection, call: ItemCall, guard: Guard | None = None) -> Outcome:
        raise NotImplementedError


def reserve_path_for(dialect: sa.Dialect) -> ReservePath:
    if dialect.name == "postgresql":
        return _PostgresPath(dialect)
    if dialect.name == "sqlite":
        return _DriverPath(dialect)
    raise ValueError(f"no reserve path for {dialect.name}")


def _p(name: str, column: sa.Column[Any]) -> sa.BindParameter[Any]:
    return sa.bindparam(name, type_=column.type)


def _claim(insert: Any) -> Any:
    column = reservations.c
    return (
        insert(reservations)
        .values(
            key=_p("r_key", column.key),
            order_id=_p("r_order", column.order_id),
            node_id=_p("r_node", column.node_id),
            sku=_p("r_sku", column.sku),
            quantity=_p("r_quantity", column.quantity),
            state=ReservationState.ACTIVE.value,
            expires_at=_p("r_expires", column.expires_at),
            created_at=_p("r_now", column.created_at),
            updated_at=_p("r_now", column.updated_at),
        )
        .on_conflict_do_nothing(index_elements=["key"])
    )


def _conditional_update(*extra: sa.ColumnElement[bool]) -> sa.Update:
    quantity = _p("r_quantity", positions.reserved)
    active_node = sa.exists().where(nodes.c.node_id == positions.node_id, nodes.c.active == sa.true())
    return (
        sa.update(inventory_positions)
        .where(
            positions.node_id == _p("r_node", positions.node_id),
            positions.sku == _p("r_sku", positions.sku),
            positions.on_hand - positions.reserved - effective_safety_stock() >= quantity,
            active_node,
            *extra,
        )
        .values(reserved=positions.reserved + quantity, updated_at=_p("r_now", positions.updated_at))
    )


def _movement_values() -> list[sa.ColumnElement[Any]]:
    """The reserve movement's columns, in `_MOVEMENT_COLUMNS` order."""
    ledger = inventory_ledger.c
    return [
        _p("r_node", ledger.node_id),
        _p("r_sku", ledger.sku),
        sa.literal(MovementKind.RESERVE.value, ledger.kind.type),
        sa.literal(0, ledger.on_hand_delta.type),
        _p("r_quantity", ledger.reserved_delta),
        _p("r_key", ledger.key),
        _p("r_reason", ledger.reason),
        _p("r_source", ledger.source),
        _p("r_now", ledger.created_at),
        _p("r_actor", ledger.actor),
    ]


_MOVEMENT_COLUMNS = [
    "node_id",
    "sku",
    "kind",
    "on_hand_delta",
    "reserved_delta",
    "key",
    "reason",
    "source",
    "created_at",
    "actor",
]


class _PostgresPath(ReservePath):
    """claim → conditional update → ledger row as one data-modifying CTE (one round trip)."""

    def __init__(self, dialect: sa.Dialect) -> None:
        claim = _claim(postgresql.insert).returning(reservations.c.key).cte("claim")
        take = _conditional_update(sa.exists(sa.select(claim.c.key))).returning(positions.node_id).cte("take")
        movement = (
            sa.insert(inventory_ledger)
            .from_select(_MOVEMENT_COLUMNS, sa.select(*_movement_values()).where(sa.exists(sa.select(take.c.node_id))))
            .returning(inventory_ledger.c.movement_id)
            .cte("movement")
        )

        def count(cte: Any, label: str) -> Any:
            return sa.select(sa.func.count()).select_from(cte).scalar_subquery().label(label)

        # Postgres runs every data-modifying CTE to completion whether or not it is read; all three are
        # read here anyway, which also tells the caller what happened.
        self._statement = sa.select(count(claim, "claimed"), count(take, "taken"), count(movement, "recorded"))
        # The guarded path: the claim alone, the guard, then the update and the ledger row.
        self._claim = _claim(postgresql.insert).returning(reservations.c.key)
        guarded_take = _conditional_update().returning(positions.node_id).cte("take")
        guarded_movement = (
            sa.insert(inventory_ledger)
            .from_select(_MOVEMENT_COLUMNS,
                         sa.select(*_movement_values()).where(sa.exists(sa.select(guarded_take.c.node_id))))
            .returning(inventory_ledger.c.movement_id)
            .cte("movement")
        )
        self._take = sa.select(count(guarded_take, "taken"), count(guarded_movement, "recorded"))

    def reserve(self, connection: Connection, call: ItemCall, guard: Guard | None = None) -> Outcome:
        if guard is None:
            row = connection.execute(self._statement, call.params()).one()
            if row.claimed == 0:
                return Outcome.SEEN_BEFORE
            return Outcome.RESERVED if row.taken == 1 else Outcome.SHORT
        params = call.params()
        if connection.execute(self._claim, params).first() is None:
            return Outcome.SEEN_BEFORE
        if not guard(connection, call.item):
            return Outcome.SHORT
        return Outcome.RESERVED if connection.execute(self._take, params).one().taken == 1 else Outcome.SHORT


class _DriverStatement:
    """A Core statement compiled once for `dialect` and run on the DBAPI cursor with positional binds."""

    def __init__(self, statement: sa.Executable, dialect: sa.Dialect) -> None:
        compiled = statement.compile(dialect=dialect)  # type: ignore[attr-defined]
        if compiled.positiontup is None:
            raise ValueError(f"{dialect.name} does not use positional parameters")
        self.sql = str(compiled)
        self._slots: list[tuple[str, Any, Callable[[Any], Any] | None]] = [
            (
                name,
                compiled.binds[name].effective_value,
                compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect),
            )
            for name in compiled.positiontup
        ]

    def parameters(self, values: Mapping[str, Any]) -> tuple[Any, ...]:
        out = []
        for name, default, process in self._slots:
            value = values.get(name, default)
            out.append(process(value) if process is not None and value is not None else value)
        return tuple(out)


class _DriverPath(ReservePath):
    """The three statements on the DBAPI cursor of the caller's connection (SQLite)."""

    def __init__(self, dialect: sa.Dialect) -> None:
        self._claim = _DriverStatement(_claim(sqlite.insert).returning(reservations.c.key), dialect)
        self._take = _DriverStatement(_conditional_update(), dialect)
        self._record = _DriverStatement(
            sa.insert(inventory_ledger).values(dict(zip(_MOVEMENT_COLUMNS, _movement_values(), strict=True))),
            dialect,
        )

    def reserve(self, connection: Connection, call: ItemCall, guard: Guard | None = None) -> Outcome:
        params = call.params()
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(self._claim.sql, self._claim.parameters(params))
            if cursor.fetchone() is None:
                return Outcome.SEEN_BEFORE
            if guard is not None and not guard(connection, call.item):
                return Outcome.SHORT
            cursor.execute(self._take.sql, self._take.parameters(params))
            if cursor.rowcount != 1:
                return Outcome.SHORT
            cursor.execute(self._record.sql, self._record.parameters(params))
            return Outcome.RESERVED
        finally:
            cursor.close()
