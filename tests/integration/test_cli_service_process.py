"""A service of the dev stack as a process: its exit status and log, stopping its whole process group,
and dying with the stack that started it even when that stack is killed without cleaning up."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from omniroute.devstack.service_process import ServiceProcess
from tests.fixtures.processes import alive


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def python(code: str) -> list[str]:
    return [sys.executable, "-c", textwrap.dedent(code)]


@pytest.fixture
def log_path(tmp_path: Path) -> Path:
    return tmp_path / "logs" / "svc.log"


def test_a_service_reports_its_own_exit_status_and_the_tail_of_its_log(log_path: Path) -> None:
    service = ServiceProcess("svc", python("print('hello from the service'); raise SystemExit(3)"),
                             env={}, log_path=log_path)
    service.start()

    assert wait_until(lambda: not service.running)
    assert service.returncode == 3
    assert "hello from the service" in service.log_tail()


def test_stopping_a_service_ends_what_it_spawned_too(log_path: Path) -> None:
    service = ServiceProcess("svc", python("""
        import subprocess, time
        print(subprocess.Popen(["sleep", "60"]).pid, flush=True)
        time.sleep(60)
    """), env={}, log_path=log_path)
    service.start()
    assert wait_until(lambda: service.log_tail().splitlines()[-1].isdigit())
    grandchild = int(service.log_tail().splitlines()[-1])
    own = service.pid()

    service.stop(timeout=5)

    assert not service.running
    assert wait_until(lambda: not alive(own) and not alive(grandchild), timeout=5)


def test_killing_a_service_is_immediate_and_it_can_start_again(log_path: Path) -> None:
    service = ServiceProcess("svc", ["sleep", "60"], env={}, log_path=log_path)
    service.start()
    first = service.pid()

    service.kill()
    service.start()

    assert not alive(first)
    assert service.running and service.pid() != first
    service.stop(timeout=5)


def test_a_service_dies_with_a_stack_that_was_killed_without_stopping_it(tmp_path: Path, log_path: Path) -> None:
    stack = subprocess.run(python(f"""
        import os
        from pathlib import Path
        from omniroute.devstack.service_process import ServiceProcess
        service = ServiceProcess("svc", ["sleep", "60"], env=dict(os.environ), log_path=Path({str(log_path)!r}))
        service.start()
        print(service.pid(), flush=True)
        os._exit(0)  # no stop(), no clean-up: as if the stack were SIGKILLed
    """), capture_output=True, text=True, timeout=30, check=True)
    orphan = int(stack.stdout.strip())

    assert wait_until(lambda: not alive(orphan), timeout=10)
    assert "is gone, stopping sleep" in log_path.read_text()
