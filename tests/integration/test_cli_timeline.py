"""`omniroute orders timeline` against a real app DB with Temporal out of reach: the DB's account, said
to be the DB's alone; an unknown order exits 1."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from models.audit import Actor, AuditEntryIn, AuditKind
from models.keys import Role
from omniroute.cli.app import app
from store import Store
from tests.fixtures.gateway import closed_port_address
from tests.fixtures.order_search import Placed, record_all


@pytest.fixture
def offline(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("OMNIROUTE_TEMPORAL_ADDRESS", closed_port_address())
    return runner


def test_the_timeline_of_an_order_lists_what_the_db_knows_with_its_actors(offline: CliRunner, store: Store) -> None:
    record_all(store, [Placed("web-7001", minute=0, nodes=("dc-il",))])
    store.record_audit(AuditEntryIn(kind=AuditKind.ORDER_CANCEL, subject="web-7001", order_id="web-7001",
                                    actor=Actor(role=Role.OPERATOR, id="op1"),
                                    detail={"lines": [1], "shipments": ["web-7001-S1"]}))

    shown = offline.invoke(app, ["orders", "timeline", "web-7001"])
    as_json = offline.invoke(app, ["orders", "timeline", "web-7001", "--json"])

    assert shown.exit_code == 0, shown.output
    assert "Temporal did not answer" in shown.output
    assert "operator op1" in shown.output and "web-7001-S1" in shown.output
    timeline = json.loads(as_json.stdout)
    assert timeline["live_view_read"] is False
    kinds = [event["kind"] for event in timeline["events"]]
    assert kinds[0] == "intake" and "cancel" in " ".join(kinds)
    cancel = next(event for event in timeline["events"] if "cancel" in event["kind"])
    assert cancel["actor"] == {"role": "operator", "id": "op1"}


def test_an_unknown_order_exits_1(offline: CliRunner, store: Store) -> None:
    result = offline.invoke(app, ["orders", "timeline", "web-nothing"])

    assert result.exit_code == 1
    assert "unknown order" in result.output
