"""Inventory benchmark: reservations per second against a raw conditional UPDATE, and ATP lookups.

Runs on scratch databases of its own (a SQLite file in a temporary directory, a fresh PostgreSQL
database dropped afterwards) and never on the app DB. Every phase is bounded in count and time.
"""

from __future__ import annotations

import asyncio
import os
import random
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import sqlalchemy as sa
from rich.progress import Progress

from models.inventory import ReservationItem
from models.network import Node, NodeKind
from omniroute.benchkit.runs import BenchError
from store import Store, upgrade_database
from store.tables import inventory_positions

POSTGRES_URL_ENV = "OMNIROUTE_BENCH_POSTGRES_URL"
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PHASE_TIME_LIMIT_S = 15.0
RESERVE_THREADS = 4
GATEWAY_CONCURRENCY = 8
RESERVE_NODES = 4
RANDOM_SKUS = 1000
STOCK_PER_POSITION = 1_000_000


@dataclass(frozen=True)
class InventorySizes:
    reservations: int
    atp_nodes: int
    atp_skus: int
    atp_lookups: int
    gateway_requests: int

    @classmethod
    def for_mode(cls, quick: bool) -> InventorySizes:
        if quick:
            return cls(reservations=200, atp_nodes=50, atp_skus=500, atp_lookups=300, gateway_requests=300)
        return cls(reservations=1500, atp_nodes=50, atp_skus=10_000, atp_lookups=2000, gateway_requests=2000)


@dataclass(frozen=True)
class ReserveRun:
    """Reservations on one database and one SKU pattern: Omniroute's reserve path and the raw UPDATE."""

    database: str
    pattern: str
    store_count: int
    store_seconds: float
    raw_count: int
    raw_seconds: float

    @property
    def store_per_second(self) -> float:
        return rate(self.store_count, self.store_seconds)

    @property
    def raw_per_second(self) -> float:
        return rate(self.raw_count, self.raw_seconds)

    @property
    def ratio(self) -> float:
        return self.store_per_second / self.raw_per_second


@dataclass(frozen=True)
class AtpRun:
    nodes: int
    skus: int
    lookups: int
    p50_ms: float
    p99_ms: float
    gateway_requests: int
    gateway_seconds: float

    @property
    def gateway_per_second(self) -> float:
        return rate(self.gateway_requests, self.gateway_seconds)


@dataclass(frozen=True)
class InventoryResults:
    reserves: list[ReserveRun]
    atp: AtpRun
    method: list[str]


def rate(count: int, seconds: float) -> float:
    if seconds <= 0:
        raise ValueError(f"a run must take some time, got {seconds} s")
    return count / seconds


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) by the nearest-rank method; raises ValueError on no values."""
    if not values:
        raise ValueError("no values")
    if not 0 <= q <= 100:
        raise ValueError(f"q must be within 0..100, got {q}")
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))  # ceil(n * q / 100), at least 1
    return ordered[int(rank) - 1]


def format_ratio(value: float) -> str:
    return f"{value:.2f}×"


def run_inventory_bench(sizes: InventorySizes, progress: Progress) -> InventoryResults:
    """Both databases' reservation runs, then ATP on SQLite. Raises BenchError when a database fails."""
    try:
        return _run_all(sizes, progress)
    except (sa.exc.SQLAlchemyError, httpx.HTTPError) as err:
        raise BenchError(f"inventory benchmark: {err}") from err


def _run_all(sizes: InventorySizes, progress: Progress) -> InventoryResults:
    reserves: list[ReserveRun] = []
    with tempfile.TemporaryDirectory(prefix="omniroute-invbench-") as tmp:
        for database, url_context in (("SQLite", _sqlite_database(Path(tmp))), ("PostgreSQL", _postgres_database())):
            with url_context as url:
                reserves += _reserve_runs(database, url, sizes, progress)
        with _sqlite_database(Path(tmp), name="atp.db") as url:
            atp = _atp_run(url, sizes, progress)
    return InventoryResults(reserves=reserves, atp=atp, method=_method(sizes))


# reservations


def _reserve_runs(database: str, url: str, sizes: InventorySizes, progress: Progress) -> list[ReserveRun]:
    store = Store.connect(url)
    try:
        node_ids = [f"bench-dc-{n}" for n in range(RESERVE_NODES)]
        skus = [f"BENCH-{n:05d}" for n in range(RANDOM_SKUS)]
        _seed(store, node_ids, ["HOT-1", *skus])
        hot = [(node_ids[0], "HOT-1")]
        spread = [(node, sku) for node in node_ids for sku in skus]
        runs = []
        for pattern, targets in (("one hot SKU", hot), ("random SKUs", spread)):
            label = f"{database}, {pattern}"
            store_count, store_s = _timed(sizes.reservations, progress, f"reserve: {label}",
                                          _store_reserve(store, targets))
            raw_count, raw_s = _timed(sizes.reservations, progress, f"raw UPDATE: {label}",
                                      _raw_reserve(store.engine, targets))
            runs.append(ReserveRun(database, pattern, store_count, store_s, raw_count, raw_s))
        return runs
    finally:
        store.dispose()


def _store_reserve(store: Store, targets: list[tuple[str, str]]) -> Callable[[random.Random], bool]:
    expires = datetime.now(UTC) + timedelta(hours=1)

    def reserve(rng: random.Random) -> bool:
        node_id, sku = rng.choice(targets)
        key = uuid.uuid4().hex
        item = ReservationItem(key=key, node_id=node_id, sku=sku, quantity=1)
        return store.reserve([item], order_id=f"bench-{key}", expires_at=expires, source="bench").ok

    return reserve


def _raw_reserve(engine: sa.Engine, targets: list[tuple[str, str]]) -> Callable[[random.Random], bool]:
    statement = sa.text(
        "UPDATE inventory_positions SET reserved = reserved + :q "
        "WHERE node_id = :node AND sku = :sku AND on_hand - reserved - safety_stock >= :q")

    def reserve(rng: random.Random) -> bool:
        node_id, sku = rng.choice(targets)
        with engine.begin() as connection:
            return connection.execute(statement, {"q": 1, "node": node_id, "sku": sku}).rowcount == 1

    return reserve


def _timed(count: int, progress: Progress, label: str, call: Callable[[random.Random], bool]) -> tuple[int, float]:
    """Run `call` up to `count` times on RESERVE_THREADS threads (stopping at the time limit);
    (calls that succeeded, seconds)."""
    task = progress.add_task(label, total=count)
    deadline = time.monotonic() + PHASE_TIME_LIMIT_S
    per_thread = [count // RESERVE_THREADS + (1 if n < count % RESERVE_THREADS else 0) for n in range(RESERVE_THREADS)]

    def worker(n: int) -> int:
        rng, done = random.Random(n), 0
        for _ in range(per_thread[n]):
            if time.monotonic() > deadline:
                break
            done += call(rng)
            progress.advance(task)
        return done

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=RESERVE_THREADS) as pool:
        done = sum(pool.map(worker, range(RESERVE_THREADS)))
    return done, time.perf_counter() - started


# ATP


def _atp_run(url: str, sizes: InventorySizes, progress: Progress) -> AtpRun:
    from gateway.app import create_app
    from integrations.sandbox import SandboxServer

    store = Store.connect(url)
    try:
        node_ids = [f"bench-node-{n:02d}" for n in range(sizes.atp_nodes)]
        skus = [f"ATP-{n:05d}" for n in range(sizes.atp_skus)]
        seeding = progress.add_task(f"ATP: seed {len(node_ids)}×{len(skus)}", total=len(node_ids))
        _seed(store, node_ids, skus, on_done=lambda: progress.advance(seeding))
        rng = random.Random(11)
        lookups = progress.add_task("ATP in process", total=sizes.atp_lookups)
        latencies = []
        deadline = time.monotonic() + PHASE_TIME_LIMIT_S
        for _ in range(sizes.atp_lookups):
            if time.monotonic() > deadline:
                break
            started = time.perf_counter()
            store.availability(rng.choice(skus))
            latencies.append((time.perf_counter() - started) * 1000)
            progress.advance(lookups)
        with SandboxServer(create_app(store=store)) as server:
            count, seconds = asyncio.run(_gateway_lookups(server.url, skus, sizes.gateway_requests, progress))
        return AtpRun(nodes=len(node_ids), skus=len(skus), lookups=len(latencies),
                      p50_ms=percentile(latencies, 50), p99_ms=percentile(latencies, 99),
                      gateway_requests=count, gateway_seconds=seconds)
    finally:
        store.dispose()


async def _gateway_lookups(base_url: str, skus: list[str], total: int, progress: Progress) -> tuple[int, float]:
    task = progress.add_task("ATP via gateway", total=total)
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

    async with httpx.AsyncClient(base_url=base_url, timeout=10.0) as client:
        started = time.perf_counter()
        await asyncio.gather(*(client_loop(client) for _ in range(GATEWAY_CONCURRENCY)))
        return done, time.perf_counter() - started


# databases


def _seed(store: Store, node_ids: list[str], skus: list[str], on_done: Callable[[], None] | None = None) -> None:
    """Nodes through the store; positions in bulk (a scratch database: no ledger rows needed)."""
    now = datetime.now(UTC)
    for node_id in node_ids:
        store.upsert_node(Node(node_id=node_id, name=node_id, kind=NodeKind.DC, postal_code="60601"))
    for node_id in node_ids:
        rows = [{"node_id": node_id, "sku": sku, "on_hand": STOCK_PER_POSITION, "reserved": 0, "safety_stock": 0,
                 "updated_at": now} for sku in skus]
        with store.engine.begin() as connection:
            connection.execute(sa.insert(inventory_positions), rows)
        if on_done is not None:
            on_done()


@contextmanager
def _sqlite_database(folder: Path, name: str = "reserve.db") -> Iterator[str]:
    url = f"sqlite:///{folder / name}"
    upgrade_database(url)
    yield url


@contextmanager
def _postgres_database() -> Iterator[str]:
    server = sa.make_url(os.environ.get(POSTGRES_URL_ENV, DEFAULT_POSTGRES_URL))
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    name = f"omniroute_bench_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            url = server.set(database=name).render_as_string(hide_password=False)
            upgrade_database(url)
            yield url
        finally:
            with admin.connect() as connection:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()


def _method(sizes: InventorySizes) -> list[str]:
    return [
        f"Reservations: up to {sizes.reservations} single-item reservations per run on {RESERVE_THREADS} threads, "
        f"at most {PHASE_TIME_LIMIT_S:.0f} s each, on a scratch database (a SQLite file; a fresh PostgreSQL "
        f"database, dropped afterwards). 'One hot SKU' reserves one (node, SKU); 'random SKUs' picks among "
        f"{RESERVE_NODES} nodes × {RANDOM_SKUS} SKUs. Omniroute's path is `Store.reserve` (idempotency insert, "
        "the conditional UPDATE, a ledger row, one transaction); the raw path is the bare conditional "
        "`UPDATE ... WHERE on_hand - reserved - safety_stock >= :q` in its own transaction on the same database.",
        f"ATP: {sizes.atp_nodes} nodes × {sizes.atp_skus} SKUs on SQLite; {sizes.atp_lookups} `Store.availability` "
        f"calls on random SKUs for the latency; then up to {sizes.gateway_requests} `GET /v1/availability?sku=` "
        f"requests from {GATEWAY_CONCURRENCY} concurrent httpx connections to the gateway app served by uvicorn "
        "in the same process (so client and server share one interpreter).",
    ]


def render_inventory(results: InventoryResults, *, section: int = 3) -> str:
    """The inventory section of bench/RESULTS.md, as Markdown."""
    atp = results.atp
    lines = [
        f"## {section}. Inventory reservations: Omniroute's reserve path vs a raw conditional UPDATE",
        "",
        "| database | SKUs | `Store.reserve` per second | raw UPDATE per second | ratio |",
        "|---|---|---:|---:|---:|",
        *(f"| {r.database} | {r.pattern} | {r.store_per_second:.0f} | {r.raw_per_second:.0f} | "
          f"{format_ratio(r.ratio)} |" for r in results.reserves),
        "",
        f"## {section + 1}. ATP lookups, {atp.nodes} nodes × {atp.skus} SKUs",
        "",
        "| path | count | p50 | p99 | per second |",
        "|---|---:|---:|---:|---:|",
        f"| in process (`Store.availability`) | {atp.lookups} | {atp.p50_ms:.2f} ms | {atp.p99_ms:.2f} ms | |",
        f"| gateway (`GET /v1/availability?sku=`) | {atp.gateway_requests} | | | {atp.gateway_per_second:.0f} |",
        "",
        "Inventory method:",
        "",
        *(f"- {item}" for item in results.method),
        "",
    ]
    return "\n".join(lines)
