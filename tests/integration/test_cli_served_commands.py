"""The `omniroute` command against real things: `db upgrade` migrating a real SQLite file, and a served
command run as a child process that shuts down cleanly on SIGTERM. The commands' help and their refusals
run in-process in tests/unit/test_cli_commands.py."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from omniroute.cli.app import app
from omniroute.devstack.ports import free_port, http_ok


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    monkeypatch.chdir(tmp_path)  # no .env file of the developer's, and a data dir of the test's own
    for key in [key for key in os.environ if key.startswith("OMNIROUTE_")]:
        monkeypatch.delenv(key)
    return CliRunner()


def test_db_upgrade_migrates_the_sqlite_file_under_the_data_dir(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["db", "upgrade"], env={"OMNIROUTE_DATA_DIR": str(tmp_path / "data")})

    assert result.exit_code == 0, result.output
    with sqlite3.connect(tmp_path / "data" / "omniroute.db") as db:
        [(revision,)] = db.execute("SELECT version_num FROM alembic_version").fetchall()
    assert revision


def test_a_served_command_stopped_by_sigterm_shuts_down_cleanly_and_exits_0(tmp_path: Path) -> None:
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("OMNIROUTE_")}
    env["OMNIROUTE_SANDBOX_PORT"] = str(port)
    sandbox = subprocess.Popen([sys.executable, "-m", "omniroute", "sandbox"], env=env, cwd=tmp_path,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while not http_ok(f"http://127.0.0.1:{port}/healthz"):
            assert sandbox.poll() is None and time.monotonic() < deadline, "the sandbox did not start"
            time.sleep(0.1)

        sandbox.send_signal(signal.SIGTERM)
        _, log = sandbox.communicate(timeout=30)
    finally:
        if sandbox.poll() is None:
            sandbox.kill()
            sandbox.wait()

    assert sandbox.returncode == 0, log
    assert "Shutting down" in log
