"""Sourcing configuration: the SKU catalogue (weights, dimensions, tags) and whole documents.

The cost model and the rule set are documents: validated by their pydantic models before they get
here, replaced as a whole, and versioned. A worker keeps its parsed copy and asks for the version
only (one indexed read) before each decision, so a change set over the API applies to the very
next order without every order re-parsing a rate card.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from models.catalog import SkuAttributes
from store.engine import Database
from store.tables import sku_catalog, sourcing_documents

COST_MODEL = "cost_model"
RULES = "rules"
SHADOW_PRICES = "shadow_prices"
DOCUMENT_NAMES = (COST_MODEL, RULES, SHADOW_PRICES)


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

    def put_document(self, name: str, document: dict[str, Any]) -> int:
        """Replace the document `name`; its new version number."""
        _check_name(name)
        table = sourcing_documents.c
        with self._db.write() as connection:
            current = connection.execute(sa.select(table.version).where(table.name == name)).scalar_one_or_none()
            version = (current or 0) + 1
            values = {"document": document, "version": version, "updated_at": datetime.now(UTC)}
            if current is None:
                connection.execute(sa.insert(sourcing_documents).values(name=name, **values))
            else:
                connection.execute(sa.update(sourcing_documents).where(table.name == name).values(**values))
        return version

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


def _check_name(name: str) -> None:
    if name not in DOCUMENT_NAMES:
        raise ValueError(f"unknown sourcing document {name!r}: one of {', '.join(DOCUMENT_NAMES)}")
