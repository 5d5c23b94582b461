"""The embedded stack: the Temporal dev server, app DB migrations, the provider sandboxes, one worker and
the gateway, as supervised child processes. `omniroute dev`, the demo, the benchmarks and the
end-to-end tests all start Omniroute through `DevStack`.

    with DevStack(settings) as stack:        # raises PortInUseError / StackError
        print(stack.urls["gateway"])
        stack.restart("worker")

Every child gets its configuration as OMNIROUTE_* environment variables built from `settings`, runs in
a process group of its own behind `omniroute.devstack.orphan_guard` (so it dies with the stack, even if the
stack is SIGKILLed), and writes to `<log_dir>/<service>.log`.
"""

from __future__ import annotations

import atexit
import fcntl
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import IO, NoReturn

from rich.console import Console
from rich.table import Table

from omniroute.config.settings import Settings
from omniroute.devstack.keys import StoredKey, ensure_admin_key, keys_path
from omniroute.devstack.ports import port_is_free
from omniroute.devstack.service_process import ServiceProcess
from omniroute.devstack.stack_env import child_environment, redact_url
from omniroute.devstack.stack_errors import PortInUseError, StackError
from omniroute.devstack.stack_services import (
    SERVICES,
    codec_endpoint,
    needed_ports,
    service_command,
    service_ready,
    stack_urls,
)
from omniroute.devstack.supervisor import RestartPolicy, Supervisor
from omniroute.devstack.temporal_cli import TemporalBinaryNotFound, temporal_binary

__all__ = ["SERVICES", "DevStack", "PortInUseError", "RestartPolicy", "StackError"]
# Started together, then awaited together: the worker and the gateway need Temporal and the DB.
_WAVES = (("temporal", "sandbox"), ("worker", "gateway"))
PROBE_INTERVAL_S = 0.25


class DevStack:
    """Starts, watches and stops the embedded stack's child processes.

    `start()` checks every needed port first (PortInUseError, nothing started), creates the data and
    log folders and locks the data dir (StackError if another stack holds it), starts Temporal and the
    sandboxes, migrates the app DB in this process, then starts the worker and the gateway, and
    returns once each is ready: Temporal answers for its namespace,
    the sandboxes' and gateway's /healthz answer 200, and the worker polls the task queue. If any
    fails, everything started is stopped and StackError names the service with the tail of its log.
    `stop()` stops the gateway, worker and sandboxes (SIGTERM, then SIGKILL after `stop_timeout`), then
    Temporal; it is idempotent, and also runs at interpreter exit if the owner forgot.
    Nothing is restarted unless the owner asks: `supervise(restart=RestartPolicy())` does (`omniroute
    dev`), while the demo, the benchmarks and the tests see a crashed or killed service stay down.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        services: Iterable[str] = SERVICES,
        log_dir: Path | None = None,
        console: Console | None = None,
        ready_timeout: float = 120.0,
        stop_timeout: float = 15.0,
    ) -> None:
        chosen = set(services)
        if unknown := chosen - set(SERVICES):
            raise ValueError(f"unknown services {sorted(unknown)}; choose from {list(SERVICES)}")
        self.settings = settings
        self.services = tuple(name for name in SERVICES if name in chosen)
        self.log_dir = Path(log_dir) if log_dir is not None else settings.data_dir / "logs"
        self.ready_timeout = ready_timeout
        self.stop_timeout = stop_timeout
        self._console = console
        self._processes: dict[str, ServiceProcess] = {}
        self._supervised: set[str] = set()
        self._binary: str | None = None
        self._lock: IO[str] | None = None
        self.admin_key: StoredKey | None = None

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> DevStack:
        if self._processes:
            raise RuntimeError("this DevStack was already started")
        self._check_ports()
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        atexit.register(self.stop)
        try:
            self._lock_data_dir()
            for wave in _WAVES:
                names = [name for name in wave if name in self.services]
                for name in names:
                    self._launch(name)
                if "temporal" in wave and self._needs_database:
                    self._migrate()
                self._await_ready(names)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        atexit.unregister(self.stop)
        self._supervised.clear()
        # Clients first, while Temporal still answers the worker's graceful shutdown.
        for wave in (("gateway", "worker", "sandbox"), ("temporal",)):
            running = [self._processes[name] for name in wave
                       if name in self._processes and self._processes[name].running]
            for process in running:
                process.request_stop()
            deadline = time.monotonic() + self.stop_timeout
            for process in running:
                status = process.stop(max(0.1, deadline - time.monotonic()))
                if status:
                    self._say(f"[yellow]{process.name} did not stop cleanly (status {status}); "
                              f"see {process.log_path}[/yellow]")
        if self._lock is not None:
            self._lock.close()  # releases the data dir
            self._lock = None

    def __enter__(self) -> DevStack:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- one service at a time (durability tests, operators) -------------------------------------

    def kill(self, name: str) -> None:
        """SIGKILL a service and everything it spawned, as a crash would. No clean-up runs, and nothing
        restarts it, not even `supervise(restart=...)`, until `start_service(name)`."""
        process = self._process(name)
        self._supervised.discard(name)
        process.kill()
        self._say(f"[yellow]{name} killed[/yellow]")

    def start_service(self, name: str) -> None:
        """Start a service that was stopped or killed, and wait until it is ready."""
        process = self._process(name)
        if process.running:
            raise RuntimeError(f"{name} is already running")
        self._start_process(process)
        self._await_ready([name])

    def restart(self, name: str) -> None:
        """Stop a service gracefully (SIGTERM), start it again and wait until it is ready."""
        process = self._process(name)
        self._supervised.discard(name)
        process.stop(self.stop_timeout)
        self.start_service(name)

    def pid(self, name: str) -> int:
        """The process id of a running service itself (for /proc measurements)."""
        return self._process(name).pid()

    def check(self) -> None:
        """Raise StackError if a service that should be running has exited."""
        for name in list(self._supervised):
            process = self._processes[name]
            if not process.running:
                self._supervised.discard(name)
                raise StackError(name, f"{name} exited unexpectedly with status {process.returncode}",
                                 log_path=process.log_path, log_tail=process.log_tail())

    def supervise(self, poll_interval: float = 0.25, *, restart: RestartPolicy | None = None) -> NoReturn:
        """Block while the stack runs. Without `restart`, raise StackError naming the first service that
        exits unexpectedly. With a RestartPolicy (as `omniroute dev`), restart a service that exits, with
        backoff, and raise StackError only when it crashes in a loop. Either way a service ended by
        `kill()`, `restart()` or `stop()` is the owner's doing and is not restarted."""
        if restart is None:
            while True:
                self.check()
                time.sleep(poll_interval)
        supervisor = Supervisor(lambda: [self._processes[name] for name in self.services if name in self._supervised],
                                self._ready, policy=restart, ready_timeout=self.ready_timeout, say=self._say)
        supervisor.run(poll_interval)

    # -- where things are ------------------------------------------------------------------------

    @property
    def urls(self) -> dict[str, str]:
        """temporal, temporal_ui, sandbox, gateway, docs, codec and database, for the chosen services."""
        return stack_urls(self.settings, self.services)

    @property
    def log_paths(self) -> dict[str, Path]:
        return {name: self.log_dir / f"{name}.log" for name in self.services}

    def table(self) -> Table:
        """Where each part of the stack is, for people."""
        labels = {"temporal": "Temporal gRPC", "temporal_ui": "Temporal UI", "sandbox": "Provider sandboxes",
                  "gateway": "Gateway", "docs": "Gateway API docs", "codec": "UI codec endpoint (decrypts payloads)",
                  "codec_login": "UI sign-in to the codec (operator key)", "database": "App DB"}
        table = Table(title="Omniroute dev stack")
        table.add_column("")
        table.add_column("where", overflow="fold")
        for key, url in self.urls.items():
            table.add_row(labels[key], url)
        if "worker" in self.services:
            table.add_row("Worker", f"task queue {self.settings.task_queue!r} (1 process)")
        if self.admin_key is not None:
            table.add_row("API keys", f"{keys_path(self.settings)} (admin key {self.admin_key.key_id})")
        table.add_row("Logs", f"{self.log_dir}/<service>.log")
        return table

    # -- internals -------------------------------------------------------------------------------

    @property
    def _needs_database(self) -> bool:
        return "worker" in self.services or "gateway" in self.services

    def _process(self, name: str) -> ServiceProcess:
        if name not in self._processes:
            raise KeyError(f"{name} is not part of this stack (services: {list(self.services)})")
        return self._processes[name]

    def _check_ports(self) -> None:
        for name in self.services:
            for need in needed_ports(name, self.settings):
                if not port_is_free(need.host, need.port):
                    raise PortInUseError(need.port, need.what, host=need.host, setting=need.setting)

    def _lock_data_dir(self) -> None:
        # Two stacks on one data dir would share Temporal's SQLite file and the app DB: refuse the second.
        lock = open(self.settings.data_dir / ".devstack.lock", "w", encoding="utf-8")  # noqa: SIM115
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            raise StackError("stack", f"another Omniroute dev stack is running on {self.settings.data_dir}") from None
        self._lock = lock

    def _launch(self, name: str) -> None:
        # The UI decrypts payloads through the gateway, when this stack runs one.
        codec = codec_endpoint(self.settings) if "gateway" in self.services else None
        command = service_command(name, self.settings, python=sys.executable, temporal=self._temporal_for(name),
                                  codec_endpoint=codec)
        process = ServiceProcess(name, command, env=child_environment(self.settings), log_path=self.log_paths[name])
        self._processes[name] = process
        self._start_process(process)

    def _start_process(self, process: ServiceProcess) -> None:
        self._say(f"starting {process.name} (log: {process.log_path})")
        process.start()
        self._supervised.add(process.name)

    def _migrate(self) -> None:
        from store import upgrade_database

        url = self.settings.app_database_url
        self._say(f"migrating the app DB {redact_url(url)}")
        try:
            upgrade_database(url)
        except Exception as err:  # any failure to migrate stops the stack; the cause is in the message
            raise StackError("migrations", f"app DB migrations failed on {redact_url(url)}: {err}") from err
        try:
            self.admin_key = ensure_admin_key(self.settings)
        except Exception as err:  # the gateway would refuse every call: stop here, naming why
            raise StackError("keys", f"no admin key could be made in {redact_url(url)}: {err}") from err

    def _await_ready(self, names: list[str]) -> None:
        started = time.monotonic()
        pending = list(names)
        while pending:
            for name in list(pending):
                process = self._processes[name]
                if not process.running:
                    self._supervised.discard(name)
                    raise StackError(name, f"{name} exited with status {process.returncode} while starting",
                                     log_path=process.log_path, log_tail=process.log_tail())
                if self._ready(process):
                    pending.remove(name)
                    self._say(f"[green]{name} ready[/green] ({time.monotonic() - started:.1f}s)")
            self.check()
            if pending and time.monotonic() - started > self.ready_timeout:
                name = pending[0]
                process = self._processes[name]
                raise StackError(name, f"{name} was not ready after {self.ready_timeout:.0f}s",
                                 log_path=process.log_path, log_tail=process.log_tail())
            if pending:
                time.sleep(PROBE_INTERVAL_S)

    def _ready(self, process: ServiceProcess) -> bool:
        return service_ready(process.name, self.settings, temporal=self._temporal_for(process.name),
                             started_at=process.started_at)

    def _temporal_for(self, name: str) -> str:
        """The `temporal` CLI, for the services that need it (the server itself, the worker's probe)."""
        if name not in ("temporal", "worker"):
            return ""
        if self._binary is None:
            try:
                self._binary = temporal_binary()
            except TemporalBinaryNotFound as err:
                raise StackError("temporal", str(err)) from err
        return self._binary

    def _say(self, message: str) -> None:
        if self._console is not None:
            self._console.print(message, highlight=False, soft_wrap=True)  # log paths stay whole
