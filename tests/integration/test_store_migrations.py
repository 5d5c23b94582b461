"""Migrations and engine settings: the schema the code expects, the guards the DB enforces."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import time

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from store import Store, upgrade_database
from store.engine import create_store_engine
from store.migrate import alembic_config
from store.tables import metadata
from tests.fixtures.db import a_node


def test_the_migrated_schema_matches_the_table_definitions(database_url: str) -> None:
    engine = create_store_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, metadata)
    finally:
        engine.dispose()
    assert differences == []


def test_upgrading_twice_changes_nothing(database_url: str) -> None:
    upgrade_database(database_url)
    upgrade_database(database_url)
    engine = create_store_engine(database_url)
    try:
        with engine.connect() as connection:
            versions = connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all()
            assert versions == [ScriptDirectory.from_config(alembic_config(database_url)).get_current_head()]
    finally:
        engine.dispose()


def test_the_database_refuses_negative_stock(store: Store) -> None:
    store.upsert_node(a_node("dc-a"))
    store.set_on_hand("dc-a", "SKU-1", 1, source="wms")
    with pytest.raises(sa.exc.IntegrityError), store.engine.begin() as connection:
        connection.execute(sa.text("UPDATE inventory_positions SET reserved = -1"))


def test_plain_postgresql_urls_are_served_by_psycopg_3(postgres_url: str) -> None:
    plain = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    upgrade_database(plain)
    store = Store.connect(plain)
    try:
        assert store.engine.dialect.driver == "psycopg"
        assert store.list_nodes() == []
    finally:
        store.dispose()


def test_sqlite_runs_in_wal_mode_with_foreign_keys_and_a_busy_timeout(sqlite_store: Store) -> None:
    with sqlite_store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 15000


def test_sqlite_writes_begin_immediate_and_reads_do_not(sqlite_store: Store) -> None:
    statements: list[str] = []
    sa.event.listen(sqlite_store.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    sqlite_store.upsert_node(a_node("dc-a"))
    writes, statements[:] = list(statements), []
    sqlite_store.availability("SKU-1")

    assert writes[0] == "BEGIN IMMEDIATE"
    assert statements[0] == "BEGIN DEFERRED"


def test_a_sqlite_write_waits_for_another_writer_instead_of_failing(sqlite_store: Store, sqlite_url: str) -> None:
    sqlite_store.upsert_node(a_node("dc-a"))
    other_process = sqlite3.connect(
        sqlite_url.removeprefix("sqlite:///"), isolation_level=None, check_same_thread=False
    )
    try:
        other_process.execute("BEGIN IMMEDIATE")
        finish = threading.Timer(0.3, other_process.execute, args=("COMMIT",))
        finish.start()
        started = time.monotonic()
        position = sqlite_store.set_on_hand("dc-a", "SKU-1", 3, source="wms")
        waited = time.monotonic() - started
        finish.join()
    finally:
        other_process.close()
    assert position.on_hand == 3
    assert waited >= 0.25


def test_two_processes_starting_together_migrate_once(unmigrated_database_url: str) -> None:
    # The worker and the gateway both migrate at start-up; neither may fail because the other won.
    migrate = f"from store import upgrade_database; upgrade_database({unmigrated_database_url!r})"
    processes = [subprocess.Popen([sys.executable, "-c", migrate], stderr=subprocess.PIPE, text=True) for _ in range(2)]
    failures = []
    for process in processes:
        _, stderr = process.communicate(timeout=60)
        if process.returncode != 0:
            failures.append(stderr)
    assert failures == []
    store = Store.connect(unmigrated_database_url)
    try:
        store.upsert_node(a_node("dc-a"))
        assert [n.node_id for n in store.list_nodes()] == ["dc-a"]
    finally:
        store.dispose()
