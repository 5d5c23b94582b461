"""SandboxStore on a real SQLite file: records by kind and key, read back by a new store on the same file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from integrations.sandbox_store import SandboxStore


def test_records_come_back_in_the_order_first_written_even_after_an_update(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    with SandboxStore(path) as store:
        for key in ("shp_b", "shp_a", "shp_c"):
            store.put("easypost.shipment", key, {"id": key, "status": "unknown"})
        store.put("easypost.shipment", "shp_b", {"id": "shp_b", "status": "pre_transit"})
        store.put("sendgrid.message", "m1", {"to": "a@example.com"})

    with SandboxStore(path) as reopened:
        shipments = reopened.load("easypost.shipment")
        messages = reopened.load("sendgrid.message")

    assert shipments == [("shp_b", {"id": "shp_b", "status": "pre_transit"}),
                         ("shp_a", {"id": "shp_a", "status": "unknown"}),
                         ("shp_c", {"id": "shp_c", "status": "unknown"})]
    assert messages == [("m1", {"to": "a@example.com"})]


def test_a_transaction_that_raises_writes_none_of_its_records(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    with SandboxStore(path) as store:
        store.put("shipbob.item", "0", {"inventory_id": 1})
        with pytest.raises(RuntimeError), store.transaction():
            store.clear("shipbob.item")
            store.put("shipbob.item", "0", {"inventory_id": 2})
            raise RuntimeError("the change fails half way")

    with SandboxStore(path) as reopened:
        assert reopened.load("shipbob.item") == [("0", {"inventory_id": 1})]


def test_deleting_and_clearing_touch_only_their_own_kind(tmp_path: Path) -> None:
    with SandboxStore(tmp_path / "state.db") as store:
        store.put("shopify.level", "1:2", {"available": 3})
        store.put("shopify.level", "1:3", {"available": 4})
        store.put("shipbob.item", "0", {"inventory_id": 1})
        store.delete("shopify.level", "1:2")
        assert store.get("shopify.level", "1:2") is None
        assert store.get("shopify.level", "1:3") == {"available": 4}
        store.clear("shopify.level")
        assert store.load("shopify.level") == []
        assert store.load("shipbob.item") == [("0", {"inventory_id": 1})]


def test_a_store_without_a_file_keeps_nothing() -> None:
    store = SandboxStore(None)
    store.put("easypost.shipment", "shp_a", {"id": "shp_a"})
    assert not store.persistent
    assert store.load("easypost.shipment") == [] and store.get("easypost.shipment", "shp_a") is None


def test_a_closed_store_refuses_to_write_instead_of_dropping_the_change(tmp_path: Path) -> None:
    store = SandboxStore(tmp_path / "state.db")
    store.close()
    with pytest.raises(RuntimeError, match="closed"):
        store.put("easypost.shipment", "shp_a", {"id": "shp_a"})
    store.close()


def test_the_file_is_in_wal_mode_and_its_folder_is_created(tmp_path: Path) -> None:
    path = tmp_path / "data" / "nested" / "state.db"
    with SandboxStore(path) as store:
        store.put("k", "v", 1)
    assert path.is_file()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
