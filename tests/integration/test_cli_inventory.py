"""`omniroute inventory verify` against a real app DB (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from models.inventory import ReservationItem
from omniroute.cli.app import app
from store import Store
from tests.fixtures.db import a_node


@pytest.fixture
def busy_store(store: Store) -> Store:
    """Counts, reservations, a commit and a release on two nodes: a ledger with every common movement."""
    for node_id in ("dc-a", "dc-b"):
        store.upsert_node(a_node(node_id))
        store.set_on_hand(node_id, "SKU-1", 20, source="test")
        store.set_on_hand(node_id, "SKU-2", 5, source="test")
    expires = datetime.now(UTC) + timedelta(hours=1)
    for n, node_id in enumerate(("dc-a", "dc-b", "dc-a")):
        items = [ReservationItem(key=f"o{n}:SKU-1", node_id=node_id, sku="SKU-1", quantity=3)]
        assert store.reserve(items, order_id=f"o{n}", expires_at=expires, source="test").ok
    store.commit(["o0:SKU-1"], source="test")
    store.release(["o1:SKU-1"], source="test", reason="cancel")
    return store


def test_verify_exits_0_when_every_position_equals_the_ledger_replay(runner: CliRunner, busy_store: Store) -> None:
    result = runner.invoke(app, ["inventory", "verify"])

    assert result.exit_code == 0, result.output
    assert "all 4 positions match the ledger" in result.output


def test_verify_exits_1_naming_the_node_and_sku_of_a_tampered_position(
        runner: CliRunner, busy_store: Store) -> None:
    with busy_store.engine.begin() as connection:
        connection.execute(sa.text(
            "UPDATE inventory_positions SET on_hand = on_hand + 7 WHERE node_id = 'dc-b' AND sku = 'SKU-2'"))

    result = runner.invoke(app, ["inventory", "verify"])

    assert result.exit_code == 1, result.output
    assert "1 of 4 positions differ" in result.output
    (row,) = [line for line in result.output.splitlines() if "dc-b" in line]
    assert "SKU-2" in row and "12" in row and "5" in row
    assert "dc-a" not in result.output
