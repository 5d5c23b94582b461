"""`omniroute inventory verify`: prove that the positions table equals the ledger's replay."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from store import Store, ledger
from store.tables import inventory_positions


@dataclass(frozen=True)
class PositionMismatch:
    """One (node, SKU) whose stored position differs from what the ledger adds up to."""

    node_id: str
    sku: str
    stored_on_hand: int
    stored_reserved: int
    ledger_on_hand: int
    ledger_reserved: int


def find_mismatches(store: Store) -> tuple[int, list[PositionMismatch]]:
    """(positions compared, mismatches sorted by node and SKU).

    The table and the replay are read in one transaction (a snapshot on SQLite; REPEATABLE READ on
    PostgreSQL) so that writes landing meanwhile cannot show up as false mismatches. A position
    with no ledger row counts as (0, 0) in the replay, and a ledger total with no position row as a
    stored (0, 0). Safety stock is a setting, not a movement, and is not compared.
    """
    engine = store.engine
    if engine.dialect.name == "postgresql":
        engine = engine.execution_options(isolation_level="REPEATABLE READ")
    with engine.connect() as connection, connection.begin():
        stored = _stored_positions(connection)
        replayed = ledger.replay(connection)
    mismatches = []
    for node_id, sku in sorted(stored.keys() | replayed.keys()):
        table = stored.get((node_id, sku), (0, 0))
        replay = replayed.get((node_id, sku), (0, 0))
        if table != replay:
            mismatches.append(PositionMismatch(node_id, sku, *table, *replay))
    return len(stored.keys() | replayed.keys()), mismatches


def _stored_positions(connection: Connection) -> dict[tuple[str, str], tuple[int, int]]:
    columns = inventory_positions.c
    query = sa.select(columns.node_id, columns.sku, columns.on_hand, columns.reserved)
    return {(node_id, sku): (on_hand, reserved) for node_id, sku, on_hand, reserved in connection.execute(query)}
