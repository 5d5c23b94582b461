"""Where the provider sandboxes keep their state between runs: one SQLite file, one row per record.

Each sandbox holds its state in memory and, when given a store, writes every change to it inside the
same lock as the change itself, then reads it all back when it starts. A record is a JSON value under
a kind (`easypost.shipment`) and a key (the shipment id); writing one record rewrites one row, so the
cost of a change does not grow with the number of records. The file is in WAL mode with
`synchronous=NORMAL`: a change is in the file once its call returns and survives the process being
killed; only a crash of the machine may lose the last few.

`SandboxStore(None)` stores nothing and reads back nothing: the sandboxes then live in memory only,
as tests that build them in-process want.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, Self

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (kind, key)
)
"""
# An upsert keeps the row (and its rowid), so records read back in the order they were first written.
_PUT = ("INSERT INTO records (kind, key, value) VALUES (?, ?, ?) "
        "ON CONFLICT (kind, key) DO UPDATE SET value = excluded.value")


class SandboxStore:
    """JSON records by (kind, key) in a SQLite file, or nowhere when `path` is None.

    Safe to share between threads and between the sandboxes of one process. Writes outside
    `transaction()` commit one by one; inside it they commit together.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._db: sqlite3.Connection | None = None
        self._closed = False
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        # Autocommit (isolation_level=None): transaction() issues BEGIN and COMMIT itself.
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA busy_timeout=5000")
            db.execute(_SCHEMA)
        except sqlite3.Error:
            db.close()
            raise
        self._db = db

    @property
    def persistent(self) -> bool:
        return self.path is not None

    def load(self, kind: str) -> list[tuple[str, Any]]:
        """Every record of `kind` as (key, value), in the order they were first written."""
        with self._lock:
            db = self._connection()
            if db is None:
                return []
            rows = db.execute("SELECT key, value FROM records WHERE kind = ? ORDER BY rowid", (kind,))
            return [(key, json.loads(value)) for key, value in rows]

    def get(self, kind: str, key: str) -> Any:
        """The value of one record, or None."""
        with self._lock:
            db = self._connection()
            if db is None:
                return None
            row = db.execute("SELECT value FROM records WHERE kind = ? AND key = ?", (kind, key)).fetchone()
            return None if row is None else json.loads(row[0])

    def put(self, kind: str, key: str, value: Any) -> None:
        with self._lock:
            if (db := self._connection()) is not None:
                db.execute(_PUT, (kind, key, json.dumps(value, separators=(",", ":"))))

    def delete(self, kind: str, key: str) -> None:
        with self._lock:
            if (db := self._connection()) is not None:
                db.execute("DELETE FROM records WHERE kind = ? AND key = ?", (kind, key))

    def clear(self, kind: str) -> None:
        with self._lock:
            if (db := self._connection()) is not None:
                db.execute("DELETE FROM records WHERE kind = ?", (kind,))

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Commit the writes made inside the block together, or none of them if it raises."""
        with self._lock:
            db = self._connection()
            if db is None or db.in_transaction:  # nothing to write, or an outer block commits
                yield
                return
            db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def close(self) -> None:
        """Close the file; later reads and writes raise RuntimeError. Safe to call twice."""
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
            self._closed = True

    def _connection(self) -> sqlite3.Connection | None:
        if self._closed:
            raise RuntimeError(f"the sandbox store {self.path} is closed")
        return self._db

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

