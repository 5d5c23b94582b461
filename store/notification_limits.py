"""How many messages of one kind went to one recipient lately: the count behind the per-recipient limit,
kept in the app DB so that every worker shares it.

A recipient's window for a kind opens with the first message after the previous window closed and
lasts `window`; at most `limit` messages are admitted in it. Admission is one conditional UPDATE (or,
for a recipient never seen, one INSERT), so two workers admitting messages to the same address at once
never admit more than the limit between them, on SQLite (whose writes are serialised) and on
PostgreSQL (where the UPDATE takes the row's lock and re-checks its condition after waiting for it).
Recipients are keys the caller derives (a hash of the address), never addresses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from store.engine import Database
from store.tables import UTCDateTime, notification_limits

_T = notification_limits


@dataclass(frozen=True)
class NotificationUsage:
    """A recipient's count for one kind: the current window, and the messages ever held back."""

    window_start: datetime
    window_sent: int
    suppressed_total: int
    last_suppressed_at: datetime | None


class NotificationLimitRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    def admit(self, recipient: str, kind: str, *, now: datetime, window: timedelta, limit: int) -> bool:
        """Count one message to `recipient` of `kind` at `now` and answer True, unless `limit` messages
        were already admitted in its window: then count it as suppressed and answer False."""
        if limit < 1:
            raise ValueError(f"limit must be at least 1, not {limit}")
        with self._db.write() as connection:
            if self._count_in_window(connection, recipient, kind, now, window, limit):
                return True
            inserted = connection.execute(
                self._db.insert(_T)
                .values(recipient=recipient, kind=kind, window_start=now, window_sent=1, suppressed_total=0)
                .on_conflict_do_nothing(index_elements=[_T.c.recipient, _T.c.kind])
                .returning(_T.c.recipient)
            ).first()
            if inserted is not None:
                return True
            # Another worker inserted the row first: count against it like any other.
            if self._count_in_window(connection, recipient, kind, now, window, limit):
                return True
            connection.execute(
                sa.update(_T)
                .where(_T.c.recipient == recipient, _T.c.kind == kind)
                .values(suppressed_total=_T.c.suppressed_total + 1, last_suppressed_at=now)
            )
            return False

    def usage(self, recipient: str, kind: str) -> NotificationUsage | None:
        with self._db.read() as connection:
            row = connection.execute(
                sa.select(_T.c.window_start, _T.c.window_sent, _T.c.suppressed_total, _T.c.last_suppressed_at)
                .where(_T.c.recipient == recipient, _T.c.kind == kind)
            ).first()
        return None if row is None else NotificationUsage(*row)

    @staticmethod
    def _count_in_window(connection: Connection, recipient: str, kind: str, now: datetime, window: timedelta,
                         limit: int) -> bool:
        """One message more in the recipient's window, or a new window if the last one has closed; False
        (and nothing written) when the row is missing or its window is full."""
        closed = _T.c.window_start <= sa.bindparam("closed_before", now - window, type_=UTCDateTime())
        at = sa.bindparam("now", now, type_=UTCDateTime())
        counted = connection.execute(
            sa.update(_T)
            .where(_T.c.recipient == recipient, _T.c.kind == kind, sa.or_(closed, _T.c.window_sent < limit))
            .values(window_sent=sa.case((closed, 1), else_=_T.c.window_sent + 1),
                    window_start=sa.case((closed, at), else_=_T.c.window_start))
        )
        return counted.rowcount == 1
