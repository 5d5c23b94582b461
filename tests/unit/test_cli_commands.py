"""The `omniroute` command line: every command is there with true help, and configuration errors and
bad options exit with a message that names what to fix."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from omniroute.cli.app import app

COMMANDS = {
    ("dev",): "embedded stack",
    ("worker",): "worker",
    ("gateway",): "gateway",
    ("sandbox",): "sandboxes",
    ("db", "upgrade"): "newest schema",
    ("demo",): "demo",
    ("bench",): "Benchmark",
    ("inventory", "verify"): "Rebuild every position from the ledger",
    ("keys", "create"): "Create a key",
    ("keys", "list"): "without their tokens",
    ("keys", "revoke"): "Revoke a key",
    ("orders", "list"): "List orders newest first",
    ("orders", "timeline"): "An order's timeline",
    ("orders", "reroute"): "Reroute a shipment not yet released",
    ("audit",): "List who changed what",
}


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    monkeypatch.chdir(tmp_path)  # no .env file of the developer's, and a data dir of the test's own
    for key in [key for key in os.environ if key.startswith("OMNIROUTE_")]:
        monkeypatch.delenv(key)
    return CliRunner()


def test_the_bare_command_lists_every_subcommand(runner: CliRunner) -> None:
    result = runner.invoke(app, [])

    for command in ("dev", "worker", "gateway", "sandbox", "db", "demo", "bench", "keys", "orders", "audit"):
        assert f" {command} " in result.output, command


@pytest.mark.parametrize("command", list(COMMANDS), ids=" ".join)
def test_each_command_explains_itself(runner: CliRunner, command: tuple[str, ...]) -> None:
    result = runner.invoke(app, [*command, "--help"])

    assert result.exit_code == 0, result.output
    assert COMMANDS[command] in result.output


def test_an_invalid_setting_exits_2_naming_its_variable(runner: CliRunner) -> None:
    result = runner.invoke(app, ["db", "upgrade"], env={"OMNIROUTE_GATEWAY_PORT": "eighty"})

    assert result.exit_code == 2
    assert "OMNIROUTE_GATEWAY_PORT" in result.output


def test_production_without_real_provider_keys_exits_2_naming_the_key(runner: CliRunner) -> None:
    result = runner.invoke(app, ["worker"], env={"OMNIROUTE_ENVIRONMENT": "production",
                                                 "OMNIROUTE_DATABASE_URL": "postgresql://omniroute@app-db/omniroute"})

    assert result.exit_code == 2
    assert "OMNIROUTE_EASYPOST_API_KEY must be set outside development and test" in result.output


def test_bench_refuses_an_unknown_event_route_before_starting_anything(runner: CliRunner) -> None:
    result = runner.invoke(app, ["bench", "--events-via", "carrier-pigeon"])

    assert result.exit_code == 2
    assert "--events-via" in result.output
