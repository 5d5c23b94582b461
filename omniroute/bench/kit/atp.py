"""ATP benchmark: availability lookups in process, and through the gateway in the bench's own
interpreter and in a process of its own."""

from __future__ import annotations

import asyncio
import os
import random
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from rich.progress import Progress

from omniroute.bench.kit.runs import BenchError
from omniroute.bench.kit.scratch import PHASE_TIME_LIMIT_S, rate, seed
from omniroute.devstack.ports import LOOPBACK, free_port, http_ok
from omniroute.devstack.service_process import ServiceProcess
from omniroute.simulation.stats import percentile
from store import Store

GATEWAY_CONCURRENCY = 8
BENCH_TOKEN = "omr_bench_" + "b" * 43
GATEWAY_STARTUP_S = 30.0


@dataclass(frozen=True)
class AtpRun:
    """ATP latency in process, and gateway throughput with the gateway in the bench's own interpreter
    (`gateway_*`) and in a process of its own (`process_*`)."""

    nodes: int
    skus: int
    lookups: int
    p50_ms: float
    p99_ms: float
    gateway_requests: int
    gateway_seconds: float
    process_requests: int
    process_seconds: float

    @property
    def gateway_per_second(self) -> float:
        return rate(self.gateway_requests, self.gateway_seconds)

    @property
    def process_per_second(self) -> float:
        return rate(self.process_requests, self.process_seconds)


def atp_run(url: str, folder: Path, *, node_count: int, sku_count: int, lookups: int, gateway_requests: int,
            progress: Progress) -> AtpRun:
    from gateway.app import create_app
    from integrations.sandbox import SandboxServer

    store = Store.connect(url)
    try:
        node_ids = [f"bench-node-{n:02d}" for n in range(node_count)]
        skus = [f"ATP-{n:05d}" for n in range(sku_count)]
        seeding = progress.add_task(f"ATP: seed {len(node_ids)}×{len(skus)}", total=len(node_ids))
        seed(store, node_ids, skus, on_done=lambda: progress.advance(seeding))
        rng = random.Random(11)
        in_process = progress.add_task("ATP in process", total=lookups)
        latencies = []
        deadline = time.monotonic() + PHASE_TIME_LIMIT_S
        for _ in range(lookups):
            if time.monotonic() > deadline:
                break
            started = time.perf_counter()
            store.availability(rng.choice(skus))
            latencies.append((time.perf_counter() - started) * 1000)
            progress.advance(in_process)
        with SandboxServer(create_app(store=store)) as server:
            count, seconds = asyncio.run(_gateway_lookups(server.url, skus, gateway_requests, progress,
                                                          "ATP via gateway, in process"))
        with _gateway_process(url, folder) as base_url:
            process_count, process_seconds = asyncio.run(_gateway_lookups(
                base_url, skus, gateway_requests, progress, "ATP via gateway, own process"))
        return AtpRun(nodes=len(node_ids), skus=len(skus), lookups=len(latencies),
                      p50_ms=percentile(latencies, 50), p99_ms=percentile(latencies, 99),
                      gateway_requests=count, gateway_seconds=seconds,
                      process_requests=process_count, process_seconds=process_seconds)
    finally:
        store.dispose()


@contextmanager
def _gateway_process(database_url: str, folder: Path) -> Iterator[str]:
    """The gateway in a process of its own, on a free port: uvicorn on the app factory (access log off,
    as in process), reading `database_url`. Its Temporal address is another free port that nothing
    listens on: the gateway connects lazily and ATP needs no Temporal. Stopped on exit; BenchError
    with its log's tail if it does not answer /healthz in time."""
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.upper().startswith("OMNIROUTE_")}
    env |= {"OMNIROUTE_DATABASE_URL": database_url, "OMNIROUTE_TEMPORAL_ADDRESS": f"{LOOPBACK}:{free_port()}",
            "OMNIROUTE_DATA_DIR": str(folder), "OMNIROUTE_OTEL_TRACES": "none", "PYTHONUNBUFFERED": "1",
            # The lookups' key, with a rate limit the benchmark never meets (it measures the lookups).
            "OMNIROUTE_BOOTSTRAP_ADMIN_KEY": BENCH_TOKEN, "OMNIROUTE_RATE_LIMIT_PER_SECOND": "1000000000",
            "OMNIROUTE_RATE_LIMIT_BURST": "1000000000"}
    command = [sys.executable, "-m", "uvicorn", "gateway.app:create_app", "--factory", "--host", LOOPBACK,
               "--port", str(port), "--log-level", "warning", "--no-access-log"]
    gateway = ServiceProcess("bench gateway", command, env=env, log_path=folder / "gateway.log")
    base_url = f"http://{LOOPBACK}:{port}"
    gateway.start()
    try:
        deadline = time.monotonic() + GATEWAY_STARTUP_S
        while not http_ok(f"{base_url}/healthz"):
            if not gateway.running or time.monotonic() > deadline:
                raise BenchError(f"the gateway process did not answer {base_url}/healthz within "
                                 f"{GATEWAY_STARTUP_S:.0f} s:\n{gateway.log_tail()}")
            time.sleep(0.1)
        yield base_url
    finally:
        gateway.stop(timeout=10)


async def _gateway_lookups(base_url: str, skus: list[str], total: int, progress: Progress,
                           label: str) -> tuple[int, float]:
    task = progress.add_task(label, total=total)
    rng = random.Random(13)
    queue = iter(range(total))
    deadline = time.monotonic() + PHASE_TIME_LIMIT_S
    done = 0

    async def client_loop(client: httpx.AsyncClient) -> None:
        nonlocal done
        for _ in queue:
            if time.monotonic() > deadline:
                return
            response = await client.get("/v1/availability", params={"sku": rng.choice(skus)})
            response.raise_for_status()
            done += 1
            progress.advance(task)

    headers = {"Authorization": f"Bearer {BENCH_TOKEN}"}
    async with httpx.AsyncClient(base_url=base_url, timeout=10.0, headers=headers) as client:
        started = time.perf_counter()
        await asyncio.gather(*(client_loop(client) for _ in range(GATEWAY_CONCURRENCY)))
        return done, time.perf_counter() - started
