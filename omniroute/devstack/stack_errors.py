"""The dev stack's errors: a service that did not start or ended when it should not have, and a port
that is taken before anything starts.

    StackError          a service failed; `service` names it, `log_path` and `log_tail` show why
     └── PortInUseError a port the stack needs is taken (raised before anything is started)
"""

from __future__ import annotations

from pathlib import Path


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
