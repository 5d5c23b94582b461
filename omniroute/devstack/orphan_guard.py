"""Run one command, and take it down if the process that started us goes away.

    python -m omniroute.devstack.orphan_guard PARENT_PID PIDFILE -- COMMAND [ARG ...]

The dev stack starts every service through this guard as the leader of a new process group, so that
the stack can stop a service and anything it spawned with one signal to the group. The guard writes
the command's pid to PIDFILE, waits for it and exits with its status (128 + N when killed by signal N).
If PARENT_PID stops being our parent (the stack was SIGKILLed, or crashed without stopping us) the
guard sends SIGTERM to its whole group, then SIGKILL after a grace period, so that no service outlives
the stack. It needs nothing but the standard library and works without prctl, on any POSIX system.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

POLL_INTERVAL_S = 0.5
GRACE_PERIOD_S = 10.0
USAGE = "usage: python -m omniroute.devstack.orphan_guard PARENT_PID PIDFILE -- COMMAND [ARG ...]"


def exit_status(returncode: int) -> int:
    """A shell-style exit status: a death by signal N becomes 128 + N."""
    return 128 - returncode if returncode < 0 else returncode


def write_pidfile(path: str, pid: int) -> None:
    partial = f"{path}.partial"
    with open(partial, "w", encoding="ascii") as handle:
        handle.write(str(pid))
    os.replace(partial, path)  # readers never see a half-written file


def guard(parent_pid: int, pidfile: str, command: list[str]) -> int:
    # The stack stops a service by signalling the whole group: the command gets SIGTERM itself, and the
    # guard only has to outlive it to report its exit status.
    signal.signal(signal.SIGTERM, lambda *_: None)
    signal.signal(signal.SIGINT, lambda *_: None)
    child = subprocess.Popen(command)
    write_pidfile(pidfile, child.pid)
    orphaned_at: float | None = None
    while True:
        try:
            return exit_status(child.wait(timeout=POLL_INTERVAL_S))
        except subprocess.TimeoutExpired:
            pass
        if orphaned_at is None and os.getppid() != parent_pid:
            orphaned_at = time.monotonic()
            print(f"orphan_guard: parent {parent_pid} is gone, stopping {command[0]}", file=sys.stderr, flush=True)
            os.killpg(os.getpgrp(), signal.SIGTERM)
        elif orphaned_at is not None and time.monotonic() - orphaned_at > GRACE_PERIOD_S:
            os.killpg(os.getpgrp(), signal.SIGKILL)  # ends the guard too


def main(argv: list[str]) -> int:
    if len(argv) < 4 or argv[2] != "--" or not argv[0].isdigit():
        print(USAGE, file=sys.stderr)
        return 2
    return guard(int(argv[0]), argv[1], argv[3:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
