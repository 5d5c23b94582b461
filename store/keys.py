"""API keys in the app DB: created with a random secret kept only as its SHA-256, found by key id,
listed without secrets, revoked, and stamped with their last use.

The secret is 32 random bytes, so one SHA-256 (no salt, no stretching) is enough: there is no
dictionary to try against it. A lookup compares hashes in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from models.keys import TOKEN_PREFIX, ApiKey, KeyCreate, KeyCreated, Role, split_token
from store.engine import Database
from store.tables import api_keys

KEY_ID_BYTES = 8
SECRET_BYTES = 32


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class KeyRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    def create(self, request: KeyCreate, *, now: datetime | None = None) -> KeyCreated:
        key_id = secrets.token_hex(KEY_ID_BYTES)
        secret = secrets.token_urlsafe(SECRET_BYTES)
        values = {
            "key_id": key_id, "name": request.name, "role": request.role.value, "channels": request.channels,
            "nodes": request.nodes, "secret_sha256": secret_hash(secret), "created_at": now or datetime.now(UTC),
        }
        with self._db.write() as connection:
            connection.execute(sa.insert(api_keys).values(values))
        return KeyCreated(key_id=key_id, token=f"{TOKEN_PREFIX}_{key_id}_{secret}", name=request.name,
                          role=request.role, channels=request.channels, nodes=request.nodes)

    def authenticate(self, token: str) -> ApiKey | None:
        """The key whose token this is, if it exists and is not revoked; None otherwise."""
        parts = split_token(token)
        if parts is None:
            return None
        key_id, secret = parts
        with self._db.read() as connection:
            row = connection.execute(sa.select(api_keys).where(api_keys.c.key_id == key_id)).one_or_none()
        if row is None or row.revoked_at is not None:
            return None
        if not hmac.compare_digest(row.secret_sha256, secret_hash(secret)):
            return None
        return _key(row)

    def get(self, key_id: str) -> ApiKey | None:
        with self._db.read() as connection:
            row = connection.execute(sa.select(api_keys).where(api_keys.c.key_id == key_id)).one_or_none()
        return None if row is None else _key(row)

    def list(self, *, include_revoked: bool = False) -> list[ApiKey]:
        query = sa.select(api_keys).order_by(api_keys.c.created_at, api_keys.c.key_id)
        if not include_revoked:
            query = query.where(api_keys.c.revoked_at.is_(None))
        with self._db.read() as connection:
            return [_key(row) for row in connection.execute(query)]

    def revoke(self, key_id: str, *, now: datetime | None = None) -> ApiKey | None:
        """Revoke the key (at once: the next request with it is a 401). None if no such key; a key
        revoked before keeps its first revocation time."""
        with self._db.write() as connection:
            connection.execute(
                sa.update(api_keys)
                .where(api_keys.c.key_id == key_id, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=now or datetime.now(UTC)))
            row = connection.execute(sa.select(api_keys).where(api_keys.c.key_id == key_id)).one_or_none()
        return None if row is None else _key(row)

    def touch(self, key_id: str, when: datetime) -> None:
        with self._db.write() as connection:
            connection.execute(sa.update(api_keys).where(api_keys.c.key_id == key_id).values(last_used_at=when))

    def has_active_admin(self) -> bool:
        query = sa.select(api_keys.c.key_id).where(
            api_keys.c.role == Role.ADMIN.value, api_keys.c.revoked_at.is_(None)).limit(1)
        with self._db.read() as connection:
            return connection.execute(query).first() is not None


def _key(row: Any) -> ApiKey:
    return ApiKey(key_id=row.key_id, name=row.name, role=Role(row.role), channels=list(row.channels),
                  nodes=list(row.nodes), created_at=row.created_at, last_used_at=row.last_used_at,
                  revoked_at=row.revoked_at)
