"""The restart policy of `omniroute dev`, driven with tiny commands (real child processes) instead of the
stack's services: a fresh count after a healthy run, a crash loop that ends in StackError naming the
service, and no restart of a service its owner took away. Its pure decisions (backoff, exit statuses) are
in tests/unit/test_restart_policy.py."""

from __future__ import annotations

import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from omniroute.devstack.service_process import ServiceProcess
from omniroute.devstack.stack_errors import StackError
from omniroute.devstack.supervisor import RestartPolicy, Supervisor

QUICK = RestartPolicy(first_delay=0.01, factor=2.0, max_delay=0.05, healthy_after=60.0, max_restarts=3)


def python(code: str) -> list[str]:
    return [sys.executable, "-c", textwrap.dedent(code)]


class Console:
    """Collects what the supervisor says."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, message: str) -> None:
        self.lines.append(message)

    def count(self, text: str) -> int:
        return sum(text in line for line in self.lines)


@pytest.fixture
def console() -> Console:
    return Console()


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Callable[[list[str]], ServiceProcess]]:
    """Starts a ServiceProcess named `svc` running a command; stops it after the test."""
    started: list[ServiceProcess] = []

    def start(command: list[str]) -> ServiceProcess:
        process = ServiceProcess("svc", command, env={}, log_path=tmp_path / "logs" / "svc.log")
        process.start()
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop(timeout=5)


def poll_until(supervisor: Supervisor, condition: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        supervisor.poll()
        time.sleep(0.01)


def test_a_service_that_keeps_crashing_is_restarted_then_given_up_on_with_its_name_and_log_tail(
    services: Callable[[list[str]], ServiceProcess], console: Console
) -> None:
    process = services(python("print('no config for svc', flush=True); raise SystemExit(3)"))
    supervisor = Supervisor(lambda: [process], lambda p: True, policy=QUICK, say=console)

    with pytest.raises(StackError) as raised:
        poll_until(supervisor, lambda: False)

    assert raised.value.service == "svc"
    assert "svc exited with status 3" in str(raised.value) and "crashed 4 times in a row" in str(raised.value)
    assert "no config for svc" in raised.value.log_tail
    assert raised.value.log_path == process.log_path
    assert console.count("restarting svc") == QUICK.max_restarts
    assert console.count("svc exited with status 3") == QUICK.max_restarts
    assert "restart 1 of 3" in console.lines[0] and "svc.log" in console.lines[0]


def test_a_crash_after_a_healthy_run_starts_the_count_again(
    services: Callable[[list[str]], ServiceProcess], console: Console
) -> None:
    process = services(python("import time; time.sleep(0.3); raise SystemExit(1)"))
    patient = RestartPolicy(first_delay=0.01, healthy_after=0.2, max_restarts=1)
    supervisor = Supervisor(lambda: [process], lambda p: True, policy=patient, say=console)

    poll_until(supervisor, lambda: console.count("restarting svc") >= 3)

    assert console.count("restart 1 of 1") == console.count("svc exited with status 1") >= 3


def test_a_restarted_service_that_never_becomes_ready_is_killed_and_counts_as_a_crash(
    services: Callable[[list[str]], ServiceProcess], console: Console, tmp_path: Path
) -> None:
    ran_before = tmp_path / "ran-before"
    process = services(python(f"""
        import pathlib, time
        marker = pathlib.Path({str(ran_before)!r})
        if not marker.exists():
            marker.touch()
            raise SystemExit(1)  # the first run crashes; the next one hangs without ever serving
        time.sleep(60)
    """))
    policy = RestartPolicy(first_delay=0.01, max_restarts=1)
    supervisor = Supervisor(lambda: [process], lambda p: False, policy=policy, ready_timeout=0.5, say=console)

    with pytest.raises(StackError, match="svc was not ready 0.5s after its restart") as raised:
        poll_until(supervisor, lambda: False)

    assert not process.running
    assert raised.value.service == "svc"


def test_a_service_its_owner_took_away_is_not_restarted(
    services: Callable[[list[str]], ServiceProcess], console: Console
) -> None:
    process = services(["sleep", "60"])
    watched = [process]
    supervisor = Supervisor(lambda: watched, lambda p: True, policy=QUICK, say=console)
    supervisor.poll()

    watched.clear()  # as DevStack.kill does before it kills
    process.kill()
    for _ in range(20):
        supervisor.poll()
        time.sleep(0.01)

    assert not process.running
    assert console.lines == []
