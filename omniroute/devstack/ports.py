"""Small network helpers for the embedded stack: free ports, whether a port is taken, readiness probes."""

from __future__ import annotations

import random
import socket
import urllib.error
import urllib.request
from pathlib import Path

LOOPBACK = "127.0.0.1"


# Ports handed out below the kernel's ephemeral range, where outgoing connections never take them.
_LOWEST_PORT = 10_000
_EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
_picker = random.Random()


def free_port(host: str = LOOPBACK) -> int:
    """A port that nothing listens on right now, for a server started a moment later.

    Chosen at random below the kernel's ephemeral range when that range is known: a port the OS
    hands out itself can be taken in between by any outgoing connection (a database or gRPC client
    opening one), which made a test's server fail to bind. Another server may still take it first;
    that race is rare. Falls back to a port the OS picks."""
    below = _ephemeral_start()
    if below is not None and below - 1 > _LOWEST_PORT:
        for _ in range(50):
            port = _picker.randint(_LOWEST_PORT, below - 1)
            if port_is_free(host, port):
                return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def _ephemeral_start() -> int | None:
    try:
        return int(_EPHEMERAL_RANGE.read_text(encoding="ascii").split()[0])
    except (OSError, ValueError, IndexError):
        return None


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
