"""Keeps the services of `omniroute dev` running: a service that exits is started again after a backoff,
and the console says which service ended, with what status, when it comes back and where its log is.

The policy is a supervisor's (Erlang/OTP's, systemd's): the delay before a restart doubles with each
crash in a row, up to a cap; a run that was ready and lasted `healthy_after` seconds wipes the slate;
and a service that crashes again and again, each time before it ran healthily, is in a crash loop.
Restarting it forever would hide the fault behind a scrolling console, so the supervisor gives up:
StackError names the service with the tail of its log, and the stack's owner stops everything.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import NoReturn

from omniroute.devstack.service_process import ServiceProcess
from omniroute.devstack.stack_errors import StackError

READY_PROBE_INTERVAL_S = 1.0


@dataclass(frozen=True)
class RestartPolicy:
    """When to restart a service that exited, and when to stop trying.

    The n-th crash in a row waits `first_delay * factor ** (n - 1)` seconds, at most `max_delay`. A run
    that became ready and lasted `healthy_after` seconds resets the count. Crash number
    `max_restarts + 1` in a row is a crash loop: no more restarts."""

    first_delay: float = 0.5
    factor: float = 2.0
    max_delay: float = 30.0
    healthy_after: float = 30.0
    max_restarts: int = 5

    def delay(self, crashes: int) -> float:
        """Seconds to wait before restarting after the `crashes`-th crash in a row (counted from 1)."""
        return min(self.max_delay, self.first_delay * self.factor ** max(0, crashes - 1))

    def gives_up(self, crashes: int) -> bool:
        return crashes > self.max_restarts


def describe_exit(status: int | None) -> str:
    """`status 137 (SIGKILL)` for a service the orphan guard saw die by a signal, `status 1` otherwise."""
    if status is None:
        return "no status"
    if status < 0:  # the guard itself died by this signal
        return f"killed by {_signal_name(-status)}"
    if status > 128 and (name := _signal_name(status - 128)) != str(status - 128):
        return f"status {status} ({name})"
    return f"status {status}"


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return str(number)


@dataclass
class _Watch:
    """What the supervisor knows of one service between polls."""

    ready: bool = True
    crashes: int = 0  # in a row, none of them after a healthy run
    restart_at: float | None = None  # set while the service waits out its backoff
    next_probe: float = 0.0
    problem: str = ""  # why the supervisor killed it itself (it never became ready)


class Supervisor:
    """Watches services and restarts those that exit, by `policy`.

    `watched()` returns the services that should be running now: one the stack stopped or killed on
    purpose is not among them, so it is never restarted behind its owner's back. `ready(process)`
    says whether a restarted service serves again; one that is not ready after `ready_timeout` seconds
    is killed and counts as a crash. `poll()` does one round and returns; `run()` polls until a crash
    loop, which it raises as StackError naming the service, its last exit status and its log tail.
    """

    def __init__(
        self,
        watched: Callable[[], Iterable[ServiceProcess]],
        ready: Callable[[ServiceProcess], bool],
        *,
        policy: RestartPolicy | None = None,
        ready_timeout: float = 120.0,
        say: Callable[[str], None] = print,
    ) -> None:
        self.policy = policy or RestartPolicy()
        self.ready_timeout = ready_timeout
        self._watched = watched
        self._ready = ready
        self._say = say
        self._watches: dict[str, _Watch] = {}

    def run(self, poll_interval: float = 0.25) -> NoReturn:
        while True:
            self.poll()
            time.sleep(poll_interval)

    def poll(self) -> None:
        now = time.monotonic()
        processes = list(self._watched())
        self._watches = {p.name: self._watches.get(p.name) or _Watch() for p in processes}
        for process in processes:
            watch = self._watches[process.name]
            if process.running:
                self._follow(process, watch, now)
            elif watch.restart_at is None:
                self._crashed(process, watch, now)
            elif now >= watch.restart_at:
                self._restart(process, watch, now)

    def _follow(self, process: ServiceProcess, watch: _Watch, now: float) -> None:
        if watch.restart_at is not None:  # started again by someone else meanwhile
            watch.restart_at, watch.ready = None, False
        if watch.ready or now < watch.next_probe:
            return
        if self._ready(process):
            watch.ready = True
            self._say(f"[green]{process.name} ready again[/green] ({process.uptime():.1f}s)")
        elif process.uptime() > self.ready_timeout:
            watch.problem = f"was not ready {self.ready_timeout:g}s after its restart"
            process.kill()
        else:
            watch.next_probe = time.monotonic() + READY_PROBE_INTERVAL_S

    def _crashed(self, process: ServiceProcess, watch: _Watch, now: float) -> None:
        ran = process.uptime()
        healthy = watch.ready and ran >= self.policy.healthy_after
        watch.crashes = 1 if healthy else watch.crashes + 1
        how = watch.problem or f"exited with {describe_exit(process.returncode)}"
        watch.problem = ""
        if self.policy.gives_up(watch.crashes):
            raise StackError(process.name, f"{process.name} {how}: it crashed {watch.crashes} times in a row "
                                            f"without a healthy run of {self.policy.healthy_after:g}s between, "
                                            "so it is not restarted again",
                             log_path=process.log_path, log_tail=process.log_tail())
        delay = self.policy.delay(watch.crashes)
        watch.restart_at = now + delay
        at = time.strftime("%H:%M:%S", time.localtime(time.time() + delay))
        self._say(f"[yellow]{process.name} {how} after {ran:.1f}s; restarting it at {at} (in {delay:.1f}s, "
                  f"restart {watch.crashes} of {self.policy.max_restarts} before giving up); "
                  f"log: {process.log_path}[/yellow]")

    def _restart(self, process: ServiceProcess, watch: _Watch, now: float) -> None:
        self._say(f"restarting {process.name} (log: {process.log_path})")
        process.start()
        watch.restart_at, watch.ready, watch.next_probe = None, False, now
