"""The dev stack's API keys: created on the stack's app DB and written to `<data dir>/keys.json`
(readable by its owner only), so that `omniroute dev`, the demo and the tests can call the gateway.

The file maps a name to `{"key_id", "role", "token"}`. `ensure_admin_key` reuses the file's admin key
while the DB still knows it, and otherwise creates a new one; other keys are added with `remember`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from models.keys import KeyCreate, Role
from omniroute.config.settings import Settings

KEYS_FILE = "keys.json"
ADMIN = "admin"


@dataclass(frozen=True)
class StoredKey:
    key_id: str
    role: Role
    token: str


def keys_path(settings: Settings) -> Path:
    return settings.data_dir / KEYS_FILE


def read_keys(path: Path) -> dict[str, StoredKey]:
    """The keys in the file; none when it does not exist or cannot be read as keys."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {name: StoredKey(item["key_id"], Role(item["role"]), item["token"]) for name, item in data.items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def remember(path: Path, name: str, key: StoredKey) -> None:
    """Add or replace `name` in the file, written whole and readable by its owner only."""
    keys = read_keys(path) | {name: key}
    data = {n: {"key_id": k.key_id, "role": k.role.value, "token": k.token} for n, k in sorted(keys.items())}
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        json.dump(data, out, indent=2)
    partial.replace(path)


def ensure_admin_key(settings: Settings) -> StoredKey:
    """An admin key the stack's gateway accepts: the file's, if the app DB knows it, else a new one."""
    from store import Store

    path = keys_path(settings)
    store = Store.connect(settings.app_database_url)
    try:
        known = read_keys(path).get(ADMIN)
        if known is not None and store.authenticate_key(known.token) is not None:
            return known
        created = store.create_key(KeyCreate(name="dev stack admin", role=Role.ADMIN))
    finally:
        store.dispose()
    key = StoredKey(created.key_id, Role.ADMIN, created.token)
    remember(path, ADMIN, key)
    return key


def admin_token(settings: Settings) -> str | None:
    """The admin token a client of a running stack should use: the bootstrap key if set, else the
    data dir's keys file."""
    if settings.bootstrap_admin_key is not None:
        return settings.bootstrap_admin_key.get_secret_value()
    known = read_keys(keys_path(settings)).get(ADMIN)
    return known.token if known is not None else None
