"""`omniroute audit` against a real app DB (SQLite and PostgreSQL)."""

from __future__ import annotations

from typer.testing import CliRunner

from models.audit import Actor, AuditEntryIn, AuditKind
from models.keys import Role
from omniroute.cli.app import app
from store import Store


def test_audit_lists_the_changes_that_match_newest_first(runner: CliRunner, store: Store) -> None:
    admin, wms = Actor.key("adm1", Role.ADMIN), Actor.key("wms1", Role.NODE)
    store.record_audit(AuditEntryIn(kind=AuditKind.NODE_PUT, subject="dc-a", actor=admin))
    store.record_audit(AuditEntryIn(kind=AuditKind.INVENTORY_COUNT, subject="dc-a", actor=wms,
                                    detail={"sku": "MUG-1", "on_hand": 3}))
    store.record_audit(AuditEntryIn(kind=AuditKind.COST_MODEL_PUT, subject="cost_model", actor=admin,
                                    detail={"version": 2}))

    everything = runner.invoke(app, ["audit"])
    by_admin = runner.invoke(app, ["audit", "--actor", "adm1", "--kind", "node.put"])

    assert everything.exit_code == 0, everything.output
    rows = [line for line in everything.output.splitlines() if "│" in line and "UTC" not in line]
    assert ["cost_model.put" in rows[0], "inventory.count" in rows[1], "node.put" in rows[2]] == [True] * 3
    assert "node:wms1" in rows[1] and "on_hand=3" in rows[1]
    assert by_admin.exit_code == 0 and "node.put" in by_admin.output and "cost_model" not in by_admin.output


def test_an_unknown_kind_exits_2_naming_the_option(runner: CliRunner, store: Store) -> None:
    result = runner.invoke(app, ["audit", "--kind", "order.explode"])

    assert result.exit_code == 2
    assert "--kind" in result.output
