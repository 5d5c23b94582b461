"""The benchmark's figures and how they are written to bench/RESULTS.md. Pure: no I/O but `Machine.detect`
and `read_rss_kib`, which read the machine and /proc."""

from __future__ import annotations

import os
import platform
import re
from dataclasses import dataclass, field
from datetime import datetime
from importlib import metadata
from pathlib import Path


@dataclass(frozen=True)
class Throughput:
    """`count` workflows from the first start to the last completion, `seconds` apart (server times)."""

    label: str
    count: int
    seconds: float

    @property
    def per_second(self) -> float:
        if self.seconds <= 0:
            raise ValueError(f"{self.label}: the run must take some time, got {self.seconds} s")
        return self.count / self.seconds


def throughput_ratio(orders: Throughput, baseline: Throughput) -> float:
    """Orders per second as a fraction of the baseline's workflows per second."""
    return orders.per_second / baseline.per_second


@dataclass(frozen=True)
class MemorySample:
    """The worker's resident memory before and after `open_orders` orders were left waiting."""

    open_orders: int
    rss_before_kib: int
    rss_after_kib: int

    @property
    def per_order_kib(self) -> float:
        if self.open_orders <= 0:
            raise ValueError("open_orders must be positive")
        return (self.rss_after_kib - self.rss_before_kib) / self.open_orders


@dataclass(frozen=True)
class Machine:
    cores: int
    python: str
    system: str
    temporalio: str

    @classmethod
    def detect(cls) -> Machine:
        return cls(
            cores=len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1),
            python=platform.python_version(),
            system=f"{platform.system()} {platform.machine()}",
            temporalio=metadata.version("temporalio"),
        )


@dataclass(frozen=True)
class BenchResults:
    command: str
    date: datetime
    machine: Machine
    quick: bool
    orders: Throughput
    baseline: Throughput
    memory: MemorySample | None
    memory_note: str | None = None
    method: list[str] = field(default_factory=list)


def parse_vmrss_kib(status_text: str) -> int:
    """The VmRSS figure of a /proc/<pid>/status text, in KiB."""
    match = re.search(r"^VmRSS:\s+(\d+)\s+kB\s*$", status_text, re.MULTILINE)
    if match is None:
        raise ValueError("no VmRSS line in the process status")
    return int(match.group(1))


def read_rss_kib(pid: int) -> int:
    return parse_vmrss_kib(Path(f"/proc/{pid}/status").read_text(encoding="utf-8"))


def render_results(results: BenchResults) -> str:
    """bench/RESULTS.md as Markdown."""
    machine, orders, baseline = results.machine, results.orders, results.baseline
    ratio = throughput_ratio(orders, baseline)
    lines = [
        "# Omniroute benchmark",
        "",
        f"- Command: `{results.command}`" + (" (quick mode)" if results.quick else ""),
        f"- Date: {results.date:%Y-%m-%d %H:%M %Z}".rstrip(),
        f"- Machine: {machine.cores} cores, {machine.system}, Python {machine.python}, temporalio {machine.temporalio}",
        "",
        "## 1. Orders per second through the full lifecycle",
        "",
        "| workflow | count | first start to last completion | per second |",
        "|---|---:|---:|---:|",
        _throughput_row(orders),
        _throughput_row(baseline),
        "",
        f"**Orders run at {ratio:.2f}× a trivial workflow's throughput** "
        f"({orders.per_second:.2f} vs {baseline.per_second:.2f} per second, same server, same run).",
        "",
        "## 2. Worker memory per open order workflow",
        "",
    ]
    if results.memory is not None:
        memory = results.memory
        lines += [
            "| open orders | worker RSS before | worker RSS after | per open order |",
            "|---:|---:|---:|---:|",
            f"| {memory.open_orders} | {_mib(memory.rss_before_kib)} | {_mib(memory.rss_after_kib)} "
            f"| {memory.per_order_kib:.1f} KiB |",
            "",
        ]
    else:
        lines += [f"Not measured: {results.memory_note or 'no figure'}", ""]
    if results.method:
        lines += ["## How it was measured", "", *(f"- {item}" for item in results.method), ""]
    return "\n".join(lines)


def _throughput_row(run: Throughput) -> str:
    return f"| {run.label} | {run.count} | {run.seconds:.1f} s | {run.per_second:.2f} |"


def _mib(kib: int) -> str:
    return f"{kib / 1024:.1f} MiB"
