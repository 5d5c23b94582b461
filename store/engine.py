"""Engines for the app DB and the two kinds of transaction the repositories use.

SQLite is tuned for two processes (worker and gateway) writing the same file: WAL so readers never
block the writer, a 15 s busy timeout, foreign keys on, and write transactions that begin with
BEGIN IMMEDIATE. A deferred transaction that reads first and writes later cannot wait for the
write lock (SQLite answers "database is locked" at once), so every write takes the lock up front
and waits its turn instead. Postgres goes through psycopg 3.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, Connection, Engine, make_url

from store.errors import StoreError

SQLITE_BUSY_TIMEOUT_SECONDS = 15
_BEGIN_MODE = "omniroute_sqlite_begin"


def normalize_url(url: str | URL) -> URL:
    """The URL SQLAlchemy should use: Postgres URLs are pinned to psycopg 3."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+psycopg")
    if backend == "sqlite":
        return parsed
    raise StoreError(f"unsupported database URL {parsed.drivername!r}: use sqlite:///path or postgresql://")


def create_store_engine(url: str | URL) -> Engine:
    """An engine configured for the store (see the module docstring). Creates no connection yet."""
    normalized = normalize_url(url)
    if normalized.get_backend_name() == "sqlite":
        engine = sa.create_engine(normalized, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS})
        configure_sqlite(engine)
        return engine
    return sa.create_engine(normalized, pool_pre_ping=True, pool_size=5, max_overflow=10, pool_recycle=1800)


def configure_sqlite(engine: Engine) -> None:
    """Install the SQLite connection settings and BEGIN handling on `engine` (once)."""
    if engine.dialect.name != "sqlite" or sa.event.contains(engine, "begin", _begin_sqlite_transaction):
        return
    sa.event.listen(engine, "connect", _prepare_sqlite_connection)
    sa.event.listen(engine, "begin", _begin_sqlite_transaction)


def _prepare_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    # Take BEGIN away from the sqlite3 module: it would open transactions lazily (deferred).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_SECONDS * 1000}")
        _use_wal(cursor)
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def _use_wal(cursor: Any) -> None:
    """Switch the file to WAL (persistent, so only its first connection does it).

    Switching needs the file to itself, and SQLite answers "database is locked" at once, without
    the busy handler, when another process is opening the same fresh file at that moment (two
    processes migrating together). Retry within the busy timeout instead.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_SECONDS
    delay = 0.01
    while True:
        try:
            if str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).lower() == "wal":
                return
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) and "busy" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.5)


def _begin_sqlite_transaction(connection: Connection) -> None:
    mode = connection.get_execution_options().get(_BEGIN_MODE, "DEFERRED")
    connection.exec_driver_sql(f"BEGIN {mode}")


def immediate_writes(engine: Engine) -> Engine:
    """`engine` whose SQLite transactions begin with BEGIN IMMEDIATE (a no-op elsewhere)."""
    return engine.execution_options(**{_BEGIN_MODE: "IMMEDIATE"})


class Database:
    """An engine plus the two transaction shapes the repositories use: `read()` and `write()`."""

    def __init__(self, engine: Engine) -> None:
        configure_sqlite(engine)
        self.engine = engine
        self.dialect = engine.dialect.name
        self._writer = immediate_writes(engine)

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as connection:
            yield connection

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One short transaction holding the write lock from its first statement (SQLite)."""
        with self._writer.begin() as connection:
            yield connection

    def insert(self, table: sa.Table) -> Any:
        """A dialect INSERT that knows ON CONFLICT (both SQLite and Postgres speak it)."""
        if self.dialect == "postgresql":
            return postgresql.insert(table)
        if self.dialect == "sqlite":
            return sqlite.insert(table)
        raise StoreError(f"unsupported database dialect {self.dialect!r}")

    def for_update(self, query: sa.Select[Any]) -> sa.Select[Any]:
        """Lock the selected rows on Postgres; SQLite's write transaction already holds the file."""
        return query.with_for_update() if self.dialect == "postgresql" else query
