"""Small network helpers for the embedded stack: free ports, whether a port is taken, readiness probes."""

from __future__ import annotations

import socket
import urllib.error
import urllib.request

LOOPBACK = "127.0.0.1"


def free_port(host: str = LOOPBACK) -> int:
    """A port that nothing listens on right now (the OS picks it). Another process may take it before
    the caller binds it; tests accept that small race."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def port_is_free(host: str, port: int) -> bool:
    """Whether a server could listen on host:port now. SO_REUSEADDR matches what uvicorn and the
    Temporal server do, so a port held only by closing connections (TIME_WAIT) counts as free."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
        return True


def split_host_port(address: str) -> tuple[str, int]:
    """`"127.0.0.1:7233"` -> `("127.0.0.1", 7233)`. Raises ValueError naming the address otherwise."""
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ValueError(f"expected host:port, got {address!r}")
    return host.strip("[]"), int(port)


def connect_host(bind_host: str) -> str:
    """The address a local client uses to reach a server bound to `bind_host` (0.0.0.0 means loopback)."""
    return LOOPBACK if bind_host in ("0.0.0.0", "", "::") else bind_host


def is_listening(host: str, port: int, timeout: float = 0.5) -> bool:
    """Whether a TCP connection to host:port succeeds."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def http_ok(url: str, timeout: float = 2.0) -> bool:
    """Whether GET `url` answers 2xx."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (local http URLs only)
            return 200 <= int(response.status) < 300
    except (urllib.error.URLError, OSError, ValueError):
        return False
