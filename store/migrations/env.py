"""Alembic environment for the app DB: online migrations only, on the store's own engine settings.

SQLite migrations run in one BEGIN IMMEDIATE transaction and Postgres ones under an advisory lock,
so that a worker and a gateway starting together migrate once, one after the other.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from store.engine import create_store_engine, immediate_writes
from store.tables import metadata

# Any constant will do; it only has to be the same in every process that migrates.
_MIGRATION_LOCK_ID = 0x6F6D6E69


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _migrate(connection)
        return
    engine = create_store_engine(context.config.get_main_option("sqlalchemy.url") or "")
    try:
        with immediate_writes(engine).connect() as connection:
            _migrate(connection)
    finally:
        engine.dispose()


def _migrate(connection: sa.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        transaction_per_migration=False,
        # SQLite's DDL is transactional, but Alembic assumes otherwise and would commit after every
        # revision, letting a second process start midway through the first one's upgrade.
        transactional_ddl=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(sa.select(sa.func.pg_advisory_xact_lock(_MIGRATION_LOCK_ID)))
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("offline (SQL script) migrations are not supported; run upgrade_database(url)")
run_migrations_online()
