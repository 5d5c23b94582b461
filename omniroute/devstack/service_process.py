"""One child process of the embedded stack: started through the orphan guard in its own process group,
its output appended to a log file, stopped by signalling the whole group."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

TAIL_LINES = 40


class ServiceProcess:
    """A supervised child: `start()` launches `command`, `stop()` sends SIGTERM to its process group and
    SIGKILL after `timeout`, `kill()` sends SIGKILL at once. `returncode` is None while it runs.

    The child never sees the terminal's Ctrl-C (it has its own session): the stack decides the order
    in which services stop. Start it again with `start()` after it ended; the log file is appended to.
    """

    def __init__(self, name: str, command: Sequence[str], *, env: Mapping[str, str], log_path: Path) -> None:
        self.name = name
        self.command = list(command)
        self.env = dict(env)
        self.log_path = log_path
        self._pidfile = log_path.with_suffix(".pid")
        self._guard: subprocess.Popen[bytes] | None = None
        self._log_offset = 0
        self._stop_requested = False
        self._launched_at = 0.0
        self.started_at = 0.0

    def start(self) -> None:
        if self.running:
            raise RuntimeError(f"{self.name} is already running")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._pidfile.unlink(missing_ok=True)
        with open(self.log_path, "ab") as log:
            self._log_offset = log.tell()
            log.write(f"=== {time.strftime('%Y-%m-%d %H:%M:%S')} starting: {' '.join(self.command)}\n".encode())
            log.flush()
            self._stop_requested = False
            self._guard = subprocess.Popen(
                [sys.executable, "-m", "omniroute.devstack.orphan_guard", str(os.getpid()), str(self._pidfile),
                 "--", *self.command],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=self.env,
                start_new_session=True,
            )
        self.started_at = time.time()
        self._launched_at = time.monotonic()

    @property
    def running(self) -> bool:
        return self._guard is not None and self._guard.poll() is None

    @property
    def returncode(self) -> int | None:
        return None if self._guard is None else self._guard.poll()

    def uptime(self) -> float:
        """Seconds since the last `start()` (a supervisor's measure of how long a run lasted)."""
        return time.monotonic() - self._launched_at

    def pid(self, timeout: float = 5.0) -> int:
        """The service's own process id (not the guard's). Raises RuntimeError if it is not running."""
        deadline = time.monotonic() + timeout
        while self.running:
            with contextlib.suppress(FileNotFoundError, ValueError):
                return int(self._pidfile.read_text(encoding="ascii"))
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} is not running")

    def request_stop(self) -> None:
        """SIGTERM to the group, once: a second SIGTERM makes uvicorn and the Temporal server skip their
        graceful shutdown."""
        if self.running and not self._stop_requested:
            self._stop_requested = True
            self._signal_group(signal.SIGTERM)

    def stop(self, timeout: float) -> int | None:
        """SIGTERM to the group (unless already sent), wait up to `timeout`, then SIGKILL.
        Returns the exit status."""
        if self._guard is None:
            return None
        if self._guard.poll() is None:
            self.request_stop()
            try:
                self._guard.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                self._guard.wait()
        # Anything the service spawned and left behind in its group goes too.
        self._signal_group(signal.SIGKILL)
        return self._guard.returncode

    def kill(self) -> None:
        """SIGKILL the whole group now, as a crash would, and reap it."""
        if self._guard is None:
            return
        self._signal_group(signal.SIGKILL)
        self._guard.wait()

    def log_tail(self, lines: int = TAIL_LINES) -> str:
        """The last `lines` lines this run wrote to its log."""
        try:
            with open(self.log_path, "rb") as log:
                log.seek(self._log_offset)
                text = log.read().decode("utf-8", errors="replace")
        except FileNotFoundError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def _signal_group(self, sig: signal.Signals) -> None:
        assert self._guard is not None
        # The guard leads the group (start_new_session), so its pid is the group id.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._guard.pid, sig)
