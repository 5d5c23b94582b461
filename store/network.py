"""The network: fulfillment nodes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from models.network import Capability, Node, NodeKind
from store.engine import Database
from store.errors import UnknownNodeError
from store.tables import nodes


class NodeRepository:
    """Nodes by id. Upserts replace every field; nodes are never deleted, only made inactive."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def upsert(self, node: Node) -> Node:
        values = _node_values(node)
        statement = self._db.insert(nodes).values(values)
        statement = statement.on_conflict_do_update(
            index_elements=[nodes.c.node_id],
            set_={name: statement.excluded[name] for name in values if name != "node_id"},
        )
        with self._db.write() as connection:
            connection.execute(statement)
            stored = connection.execute(sa.select(nodes).where(nodes.c.node_id == node.node_id)).one()
        return _node_from_row(stored)

    def get(self, node_id: str) -> Node | None:
        with self._db.read() as connection:
            row = connection.execute(sa.select(nodes).where(nodes.c.node_id == node_id)).one_or_none()
        return None if row is None else _node_from_row(row)

    def list(self) -> list[Node]:
        with self._db.read() as connection:
            rows = connection.execute(sa.select(nodes).order_by(nodes.c.node_id)).all()
        return [_node_from_row(row) for row in rows]


def require_node(connection: Connection, node_id: str) -> None:
    """Raise UnknownNodeError unless `node_id` is in the network (inside the caller's transaction)."""
    found = connection.execute(sa.select(nodes.c.node_id).where(nodes.c.node_id == node_id)).first()
    if found is None:
        raise UnknownNodeError(node_id)


# The fields a node keeps in its `config` column.
_CONFIG = {"hand_off", "sla", "daily_capacity", "provider"}


def _node_values(node: Node) -> dict[str, Any]:
    return {
        "node_id": node.node_id,
        "name": node.name,
        "kind": node.kind.value,
        "line1": node.line1,
        "city": node.city,
        "region": node.region,
        "postal_code": node.postal_code,
        "country": node.country,
        "latitude": node.latitude,
        "longitude": node.longitude,
        "capabilities": [capability.value for capability in node.capabilities],
        "active": node.active,
        "updated_at": datetime.now(UTC),
        "config": node.model_dump(mode="json", include=_CONFIG, exclude_none=True) or None,
    }


def _node_from_row(row: sa.Row[Any]) -> Node:
    return Node.model_validate(dict(
        node_id=row.node_id,
        name=row.name,
        kind=NodeKind(row.kind),
        line1=row.line1,
        city=row.city,
        region=row.region,
        postal_code=row.postal_code,
        country=row.country,
        latitude=row.latitude,
        longitude=row.longitude,
        capabilities=[Capability(value) for value in row.capabilities],
        active=row.active,
        **(row.config or {}),
    ))
