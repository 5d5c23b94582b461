"""The embedded stack: the Temporal dev server, app DB migrations, the provider sandboxes, one worker and
the gateway, as supervised child processes. `omniroute dev`, the demo, the benchmarks and the
end-to-end tests all start Omniroute through `DevStack`.

    with DevStack(settings) as stack:        # raises PortInUseError / StackError
        print(stack.urls["gateway"])
        stack.restart("worker")

Every child gets its configuration as OMNIROUTE_* environment variables built from `settings`, runs in
a process group of its own behind `omniroute.orphan_guard` (so it dies with the stack, even if the
stack is SIGKILLed), and writes to `<log_dir>/<service>.log`.
"""

from __future__ import annotations

import atexit
import sys
import time
from collections.abc import Iterable
from pathlib import Path

from rich.console import Console
from rich.table import Table

from omniroute.ports import connect_host, http_ok, is_listening, port_is_free, split_host_port
from omniroute.service_process import ServiceProcess
from omniroute.settings import Settings
from omniroute.stack_env import child_environment, redact_url
from omniroute.temporal_cli import TemporalBinaryNotFound, latest_poll_time, namespace_ready, temporal_binary

SERVICES = ("temporal", "sandbox", "worker", "gateway")
# Started together, then awaited together: the worker and the gateway need Temporal and the DB.
_WAVES = (("temporal", "sandbox"), ("worker", "gateway"))
PROBE_INTERVAL_S = 0.25


class StackError(RuntimeError):
    """A service of the stack did not start, or ended when it should not have. `service` names it; the
    message ends with the tail of its log, and `log_path` says where the whole log is."""

    def __init__(self, service: str, problem: str, *, log_path: Path | None = None, log_tail: str = "") -> None:
        self.service = service
        self.problem = problem
        self.log_path = log_path
        self.log_tail = log_tail
        message = problem
        if log_path is not None:
            message += f" (log: {log_path})"
        if log_tail:
            message += f"\n--- last lines of the {service} log ---\n{log_tail}"
        super().__init__(message)


class PortInUseError(StackError):
    """A port the stack needs is already taken. Raised before anything is started."""

    def __init__(self, port: int, what: str, *, host: str = "127.0.0.1", setting: str = "") -> None:
        self.port = port
        self.what = what
        hint = f"; stop whatever holds it or choose another port with {setting}" if setting else ""
        super().__init__(what, f"port {port} ({what}) on {host} is already in use{hint}")


class DevStack:
    """Starts, watches and stops the embedded stack's child processes.

    `start()` checks every needed port first (PortInUseError, nothing started), creates the data and
    log folders, starts Temporal and the sandboxes, migrates the app DB in this process, then starts
    the worker and the gateway, and returns once each is ready: Temporal answers for its namespace,
    the sandboxes' and gateway's /healthz answer 200, and the worker polls the task queue. If any
    fails, everything started is stopped and StackError names the service with the tail of its log.
    `stop()` stops the gateway, worker and sandboxes (SIGTERM, then SIGKILL after `stop_timeout`), then
    Temporal; it is idempotent, and also runs at interpreter exit if the owner forgot.
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
        self._temporal_host, self._temporal_port = split_host_port(settings.temporal_address)
        self._processes: dict[str, ServiceProcess] = {}
        self._supervised: set[str] = set()
        self._binary: str | None = None

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> DevStack:
        if self._processes:
            raise RuntimeError("this DevStack was already started")
        self._check_ports()
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        atexit.register(self.stop)
        try:
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
            running = [self._processes[name] for name in wave if name in self._processes]
            for process in running:
                process.request_stop()
            deadline = time.monotonic() + self.stop_timeout
            for process in running:
                process.stop(max(0.1, deadline - time.monotonic()))

    def __enter__(self) -> DevStack:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- one service at a time (durability tests, operators) -------------------------------------

    def kill(self, name: str) -> None:
        """SIGKILL a service and everything it spawned, as a crash would. No clean-up runs."""
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

    def supervise(self, poll_interval: float = 0.5) -> None:
        """Block until a service exits unexpectedly, and raise StackError naming it."""
        while True:
            self.check()
            time.sleep(poll_interval)

    # -- where things are ------------------------------------------------------------------------

    @property
    def urls(self) -> dict[str, str]:
        s = self.settings
        gateway = f"http://{connect_host(s.gateway_host)}:{s.gateway_port}"
        urls = {
            "temporal": s.temporal_address, "temporal_ui": s.ui_url,
            "sandbox": s.sandbox_url, "gateway": gateway, "docs": f"{gateway}/docs",
        }
        present = {"temporal": "temporal", "temporal_ui": "temporal", "sandbox": "sandbox",
                   "gateway": "gateway", "docs": "gateway"}
        chosen = {key: url for key, url in urls.items() if present[key] in self.services}
        if self._needs_database:
            chosen["database"] = redact_url(s.app_database_url)
        return chosen

    @property
    def log_paths(self) -> dict[str, Path]:
        return {name: self.log_dir / f"{name}.log" for name in self.services}

    def table(self) -> Table:
        """Where each part of the stack is, for people."""
        labels = {"temporal": "Temporal gRPC", "temporal_ui": "Temporal UI", "sandbox": "Provider sandboxes",
                  "gateway": "Gateway", "docs": "Gateway API docs", "database": "App DB"}
        table = Table(title="Omniroute dev stack")
        table.add_column("")
        table.add_column("where", overflow="fold")
        for key, url in self.urls.items():
            table.add_row(labels[key], url)
        if "worker" in self.services:
            table.add_row("Worker", f"task queue {self.settings.task_queue!r} (1 process)")
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
        s = self.settings
        wanted = {
            "temporal": [(self._temporal_port, "Temporal gRPC", self._temporal_host, "OMNIROUTE_TEMPORAL_ADDRESS"),
                         (s.temporal_ui_port, "Temporal UI", self._temporal_host, "OMNIROUTE_TEMPORAL_UI_PORT")],
            "sandbox": [(s.sandbox_port, "provider sandboxes", "127.0.0.1", "OMNIROUTE_SANDBOX_PORT")],
            "gateway": [(s.gateway_port, "gateway", s.gateway_host, "OMNIROUTE_GATEWAY_PORT")],
        }
        for name in self.services:
            for port, what, host, setting in wanted.get(name, []):
                if not port_is_free(host, port):
                    raise PortInUseError(port, what, host=host, setting=setting)

    def _command(self, name: str) -> list[str]:
        if name != "temporal":
            return [sys.executable, "-m", "omniroute", name]
        from workflows.ids import search_attribute_cli_args

        s = self.settings
        namespaces = [] if s.temporal_namespace == "default" else ["--namespace", s.temporal_namespace]
        return [
            self._temporal(), "server", "start-dev", "--ip", self._temporal_host, "--port", str(self._temporal_port),
            "--ui-port", str(s.temporal_ui_port), "--db-filename", str((s.data_dir / "temporal.db").resolve()),
            "--log-level", "warn", "--ui-disable-news-fetch", *namespaces, *search_attribute_cli_args(),
        ]

    def _launch(self, name: str) -> None:
        process = ServiceProcess(name, self._command(name), env=child_environment(self.settings),
                                 log_path=self.log_paths[name])
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
                if self._is_ready(name, process):
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

    def _is_ready(self, name: str, process: ServiceProcess) -> bool:
        s = self.settings
        if name == "temporal":
            return (is_listening(self._temporal_host, self._temporal_port)
                    and is_listening(self._temporal_host, s.temporal_ui_port)
                    and namespace_ready(self._temporal(), s.temporal_address, s.temporal_namespace))
        if name == "sandbox":
            return http_ok(f"{s.sandbox_url}/healthz")
        if name == "gateway":
            return http_ok(f"http://{connect_host(s.gateway_host)}:{s.gateway_port}/healthz")
        # The worker is ready once it polls: a poll newer than this start (not a killed predecessor's).
        polled = latest_poll_time(self._temporal(), s.temporal_address, s.temporal_namespace, s.task_queue)
        return polled is not None and polled >= process.started_at

    def _temporal(self) -> str:
        if self._binary is None:
            try:
                self._binary = temporal_binary()
            except TemporalBinaryNotFound as err:
                raise StackError("temporal", str(err)) from err
        return self._binary

    def _say(self, message: str) -> None:
        if self._console is not None:
            self._console.print(message, highlight=False)
