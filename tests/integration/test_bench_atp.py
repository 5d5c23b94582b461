"""The ATP benchmark on a tiny scratch database: every phase runs the count it was given."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.progress import Progress

from omniroute.bench.kit.atp import atp_run
from omniroute.bench.kit.scratch import sqlite_database


def test_the_atp_bench_makes_every_lookup_in_process_through_both_gateways(tmp_path: Path) -> None:
    with sqlite_database(tmp_path, name="atp.db") as url, Progress(console=Console(quiet=True)) as progress:
        run = atp_run(url, tmp_path, node_count=2, sku_count=10, lookups=30, gateway_requests=20, progress=progress)

    assert (run.nodes, run.skus, run.lookups) == (2, 10, 30)
    assert run.gateway_requests == 20 and run.process_requests == 20
    assert 0 < run.p50_ms <= run.p99_ms
    assert run.gateway_per_second > 0 and run.process_per_second > 0
