"""Scratch databases and small statistics shared by the benchmarks: never the app DB.

A SQLite file in a temporary folder, or a fresh PostgreSQL database dropped afterwards; positions
seeded in bulk; rates.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from models.network import Node, NodeKind
from store import Store, upgrade_database
from store.tables import inventory_positions

POSTGRES_URL_ENV = "OMNIROUTE_BENCH_POSTGRES_URL"
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
# Each timed phase stops after this long, whatever its count.
PHASE_TIME_LIMIT_S = 15.0
STOCK_PER_POSITION = 1_000_000


def rate(count: int, seconds: float) -> float:
    if seconds <= 0:
        raise ValueError(f"a run must take some time, got {seconds} s")
    return count / seconds


def format_ratio(value: float) -> str:
    return f"{value:.2f}×"


def seed(store: Store, node_ids: list[str], skus: list[str], on_done: Callable[[], None] | None = None) -> None:
    """Nodes through the store; positions in bulk (a scratch database: no ledger rows needed)."""
    now = datetime.now(UTC)
    for node_id in node_ids:
        store.upsert_node(Node(node_id=node_id, name=node_id, kind=NodeKind.DC, postal_code="60601"))
    for node_id in node_ids:
        rows = [{"node_id": node_id, "sku": sku, "on_hand": STOCK_PER_POSITION, "reserved": 0, "safety_stock": 0,
                 "updated_at": now} for sku in skus]
        with store.engine.begin() as connection:
            connection.execute(sa.insert(inventory_positions), rows)
        if on_done is not None:
            on_done()


@contextmanager
def sqlite_database(folder: Path, name: str = "reserve.db") -> Iterator[str]:
    url = f"sqlite:///{folder / name}"
    upgrade_database(url)
    yield url


@contextmanager
def postgres_database() -> Iterator[str]:
    server = sa.make_url(os.environ.get(POSTGRES_URL_ENV, DEFAULT_POSTGRES_URL))
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    name = f"omniroute_bench_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            url = server.set(database=name).render_as_string(hide_password=False)
            upgrade_database(url)
            yield url
        finally:
            with admin.connect() as connection:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()
