"""The audit trail: one row per change made through the gateway, with its actor (models.audit).

Rows are only ever inserted. They are listed newest first by id (ids grow with time), a page at a
time: a page ends at an id and the next one starts below it, so a page never repeats or skips an
entry while new ones arrive.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from models.audit import Actor, ActorRole, AuditEntry, AuditEntryIn, AuditFilter, AuditKind
from store.engine import Database
from store.tables import audit_log

entries = audit_log.c


class AuditRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    def record(self, entry: AuditEntryIn, *, at: datetime | None = None) -> AuditEntry:
        """Append `entry`, stamped `at` (now unless told)."""
        when = at or datetime.now(UTC)
        values = {
            "at": when, "actor_role": entry.actor.role.value, "actor_id": entry.actor.id, "kind": entry.kind.value,
            "subject": entry.subject, "order_id": entry.order_id, "detail": entry.detail,
        }
        with self._db.write() as connection:
            entry_id = connection.execute(sa.insert(audit_log).values(values).returning(entries.id)).scalar_one()
        return AuditEntry(id=entry_id, at=when, **entry.model_dump())

    def find(self, wanted: AuditFilter, *, before_id: int | None = None, limit: int = 100) -> list[AuditEntry]:
        """Entries matching `wanted`, newest first, with ids below `before_id` when given."""
        query = sa.select(audit_log).where(*_conditions(wanted))
        if before_id is not None:
            query = query.where(entries.id < before_id)
        query = query.order_by(entries.id.desc()).limit(limit)
        with self._db.read() as connection:
            return [_entry(row) for row in connection.execute(query)]


def _conditions(wanted: AuditFilter) -> list[sa.ColumnElement[bool]]:
    conditions: list[sa.ColumnElement[bool]] = []
    if wanted.actor_id is not None:
        conditions.append(entries.actor_id == wanted.actor_id)
    if wanted.role is not None:
        conditions.append(entries.actor_role == wanted.role.value)
    if wanted.kind is not None:
        conditions.append(entries.kind == wanted.kind.value)
    if wanted.subject is not None:
        conditions.append(entries.subject == wanted.subject)
    if wanted.order_id is not None:
        conditions.append(entries.order_id == wanted.order_id)
    if wanted.since is not None:
        conditions.append(entries.at >= wanted.since)
    if wanted.until is not None:
        conditions.append(entries.at < wanted.until)
    return conditions


def _entry(row: sa.Row[Any]) -> AuditEntry:
    return AuditEntry(
        id=row.id, at=row.at, actor=Actor(role=ActorRole(row.actor_role), id=row.actor_id),
        kind=AuditKind(row.kind), subject=row.subject, order_id=row.order_id, detail=dict(row.detail),
    )
