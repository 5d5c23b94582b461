"""DevStack with the sandboxes alone, started as a child process: without a restart policy, an owner's
kill is no crash and a crash ends `supervise` with nothing restarted."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from omniroute.config.settings import Settings
from omniroute.devstack.ports import free_port
from omniroute.devstack.stack import DevStack, StackError


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        _env_file=None,
        data_dir=tmp_path / "data", temporal_address=f"127.0.0.1:{free_port()}", temporal_ui_port=free_port(),
        gateway_port=free_port(), sandbox_port=free_port(),
    )


def test_without_a_restart_policy_an_owners_kill_is_no_crash_and_a_crash_ends_supervise_with_nothing_restarted(
    settings: Settings,
) -> None:
    with DevStack(settings, services=("sandbox",)) as stack:
        stack.kill("sandbox")
        stack.check()  # killed on purpose: not a failure
        stack.start_service("sandbox")

        os.kill(stack.pid("sandbox"), signal.SIGKILL)
        with pytest.raises(StackError, match="sandbox exited unexpectedly with status 137"):
            stack.supervise(poll_interval=0.05)

        with pytest.raises(RuntimeError, match="sandbox is not running"):
            stack.pid("sandbox")
