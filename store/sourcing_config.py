"""Sourcing configuration: the SKU catalogue (weights, dimensions, tags) and whole documents.

The cost model and the rule set are documents: validated by their pydantic models before they get
here, replaced as a whole, and versioned. A worker keeps its parsed copy and asks for the version
only (one indexed read) before each decision, so a change set over the API applies to the very
next order without every order re-parsing a rate card.

Every version of the cost model and the rule set is also kept, with who stored it, in
sourcing_document_versions (an order's decision names the versions it was made with); the look-ahead's
prices, refreshed every few minutes, are not.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from models.audit import SYSTEM, Actor, ActorRole, DocumentVersion
from models.catalog import SkuAttributes
from store.engine import Database
from store.tables import sku_catalog, sourcing_document_versions, sourcing_documents

COST_MODEL = "cost_model"
RULES = "rules"
SHADOW_PRICES = "shadow_prices"
DOCUMENT_NAMES = (COST_MODEL, RULES, SHADOW_PRICES)
VERSIONED_NAMES = (COST_MODEL, RULES)


class SourcingConfigRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    # catalogue

    def upsert_skus(self, items: Sequence[SkuAttributes]) -> int:
        """Insert or replace the attributes of `items` in one transaction; how many were written."""
        if not items:
            return 0
        now = datetime.now(UTC)
        rows = [
            {"sku": i.sku, "weight_lb": i.weight_lb, "length_in": i.length_in, "width_in": i.width_in,
             "height_in": i.height_in, "tags": list(i.tags), "updated_at": now}
            for i in items
        ]
        statement = self._db.insert(sku_catalog)
        statement = statement.on_conflict_do_update(
            index_elements=[sku_catalog.c.sku],
            set_={name: statement.excluded[name] for name in
                  ("weight_lb", "length_in", "width_in", "height_in", "tags", "updated_at")},
        )
        with self._db.write() as connection:
            connection.execute(statement, rows)
        return len(rows)

    def skus(self, skus: Iterable[str] | None = None) -> list[SkuAttributes]:
        """The attributes of `skus` that are known (all of them when None), by SKU."""
        query = sa.select(sku_catalog).order_by(sku_catalog.c.sku)
        if skus is not None:
            query = query.where(sku_catalog.c.sku.in_(sorted(set(skus))))
        with self._db.read() as connection:
            return [
                SkuAttributes(sku=row.sku, weight_lb=row.weight_lb, length_in=row.length_in, width_in=row.width_in,
                              height_in=row.height_in, tags=list(row.tags))
                for row in connection.execute(query)
            ]

    # documents

    def put_document(self, name: str, document: dict[str, Any], *, actor: Actor = SYSTEM) -> int:
        """Replace the document `name` (and keep the version, for the cost model and the rules); its new
        version number."""
        _check_name(name)
        table = sourcing_documents.c
        now = datetime.now(UTC)
        with self._db.write() as connection:
            current = connection.execute(
                self._db.for_update(sa.select(table.version).where(table.name == name))).scalar_one_or_none()
            version = max(current or 0, _newest_kept(connection, name)) + 1
            values = {"document": document, "version": version, "updated_at": now}
            if current is None:
                connection.execute(sa.insert(sourcing_documents).values(name=name, **values))
            else:
                connection.execute(sa.update(sourcing_documents).where(table.name == name).values(**values))
            if name in VERSIONED_NAMES:
                connection.execute(sa.insert(sourcing_document_versions).values(
                    name=name, version=version, document=document, created_at=now, actor_role=actor.role.value,
                    actor_id=actor.id))
        return version

    def history(self, name: str, *, limit: int) -> list[DocumentVersion]:
        """The kept versions of `name`, newest first (none for a document not versioned)."""
        _check_name(name)
        table = sourcing_document_versions.c
        query = (
            sa.select(table.version, table.created_at, table.actor_role, table.actor_id)
            .where(table.name == name)
            .order_by(table.version.desc())
            .limit(limit)
        )
        with self._db.read() as connection:
            return [
                DocumentVersion(version=row.version, created_at=row.created_at,
                                actor=Actor(role=ActorRole(row.actor_role), id=row.actor_id))
                for row in connection.execute(query)
            ]

    def document_version(self, name: str, version: int) -> dict[str, Any] | None:
        """Version `version` of `name` as it was stored, or None if it is not kept."""
        _check_name(name)
        table = sourcing_document_versions.c
        with self._db.read() as connection:
            found = connection.execute(
                sa.select(table.document).where(table.name == name, table.version == version)
            ).scalar_one_or_none()
        return None if found is None else dict(found)

    def document(self, name: str) -> tuple[dict[str, Any], int] | None:
        """(document, version) of `name`, or None if it was never set."""
        _check_name(name)
        table = sourcing_documents.c
        with self._db.read() as connection:
            row = connection.execute(
                sa.select(table.document, table.version).where(table.name == name)
            ).one_or_none()
        return None if row is None else (dict(row.document), row.version)

    def versions(self) -> dict[str, int]:
        """Each stored document's version (absent = never set)."""
        table = sourcing_documents.c
        with self._db.read() as connection:
            return {row.name: row.version for row in connection.execute(sa.select(table.name, table.version))}

    def delete_document(self, name: str) -> bool:
        _check_name(name)
        with self._db.write() as connection:
            deleted = connection.execute(sa.delete(sourcing_documents).where(sourcing_documents.c.name == name))
        return deleted.rowcount > 0


def _newest_kept(connection: Connection, name: str) -> int:
    """The newest kept version of `name` (0: none), so that a document deleted and set again does not
    reuse a version number."""
    table = sourcing_document_versions.c
    newest = connection.execute(sa.select(sa.func.max(table.version)).where(table.name == name)).scalar_one_or_none()
    return int(newest or 0)


def _check_name(name: str) -> None:
    if name not in DOCUMENT_NAMES:
        raise ValueError(f"unknown sourcing document {name!r}: one of {', '.join(DOCUMENT_NAMES)}")
