"""Inventory benchmark: reservations per second against raw conditional UPDATEs, and ATP lookups
(bench/kit/atp.py) on scratch databases (bench/kit/scratch.py).

Runs on scratch databases of its own (a SQLite file in a temporary directory, a fresh PostgreSQL
database dropped afterwards) and never on the app DB. Every phase is bounded in count and time.
Reservations are measured three ways: `Store.reserve`, the bare conditional UPDATE through
SQLAlchemy, and the same UPDATE on the DBAPI driver's own connection (what SQLAlchemy adds shows as
the gap between the last two). ATP is measured in process, through the gateway served in the bench's
own interpreter, and through the gateway in a process of its own.
"""

from __future__ import annotations

import random
import sqlite3
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import sqlalchemy as sa
from rich.progress import Progress

from models.inventory import ReservationItem
from omniroute.bench.kit.atp import GATEWAY_CONCURRENCY, AtpRun, atp_run
from omniroute.bench.kit.runs import BenchError
from omniroute.bench.kit.scratch import (
    PHASE_TIME_LIMIT_S,
    format_ratio,
    postgres_database,
    rate,
    seed,
    sqlite_database,
)
from store import Store

RESERVE_THREADS = 4
RESERVE_NODES = 4
RANDOM_SKUS = 1000
ITEMS_PER_CALL = 5
RAW_UPDATE = ("UPDATE inventory_positions SET reserved = reserved + {q} "
              "WHERE node_id = {node} AND sku = {sku} AND on_hand - reserved - safety_stock >= {q}")


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
    """Single-item reservations on one database and one SKU pattern: Omniroute's reserve path, the raw
    UPDATE through SQLAlchemy (`raw_*`) and the raw UPDATE on the driver's connection (`driver_*`)."""

    database: str
    pattern: str
    store_count: int
    store_seconds: float
    raw_count: int
    raw_seconds: float
    driver_count: int
    driver_seconds: float

    @property
    def store_per_second(self) -> float:
        return rate(self.store_count, self.store_seconds)

    @property
    def raw_per_second(self) -> float:
        return rate(self.raw_count, self.raw_seconds)

    @property
    def driver_per_second(self) -> float:
        return rate(self.driver_count, self.driver_seconds)

    @property
    def ratio(self) -> float:
        """The headline: `Store.reserve` against the raw UPDATE through SQLAlchemy."""
        return self.store_per_second / self.raw_per_second

    @property
    def driver_ratio(self) -> float:
        """`Store.reserve` against the raw UPDATE on the bare driver connection."""
        return self.store_per_second / self.driver_per_second


@dataclass(frozen=True)
class MultiItemRun:
    """Reservations of `items_per_call` items per call on one database: `Store.reserve` with that many
    items against as many raw UPDATEs in one transaction. Counts are calls that succeeded."""

    database: str
    items_per_call: int
    store_calls: int
    store_seconds: float
    raw_calls: int
    raw_seconds: float

    @property
    def store_items_per_second(self) -> float:
        return rate(self.store_calls * self.items_per_call, self.store_seconds)

    @property
    def raw_items_per_second(self) -> float:
        return rate(self.raw_calls * self.items_per_call, self.raw_seconds)

    @property
    def ratio(self) -> float:
        return self.store_items_per_second / self.raw_items_per_second


@dataclass(frozen=True)
class InventoryResults:
    reserves: list[ReserveRun]
    multi_item: list[MultiItemRun]
    atp: AtpRun
    method: list[str]


def run_inventory_bench(sizes: InventorySizes, progress: Progress) -> InventoryResults:
    """Both databases' reservation runs, then ATP on SQLite. Raises BenchError when a database fails."""
    try:
        return _run_all(sizes, progress)
    except (sa.exc.SQLAlchemyError, sqlite3.Error, psycopg.Error, httpx.HTTPError) as err:
        raise BenchError(f"inventory benchmark: {err}") from err


def _run_all(sizes: InventorySizes, progress: Progress) -> InventoryResults:
    reserves: list[ReserveRun] = []
    multi_item: list[MultiItemRun] = []
    with tempfile.TemporaryDirectory(prefix="omniroute-invbench-") as tmp:
        for database, url_context in (("SQLite", sqlite_database(Path(tmp))), ("PostgreSQL", postgres_database())):
            with url_context as url:
                single, multi = _reserve_runs(database, url, sizes, progress)
                reserves += single
                multi_item.append(multi)
        with sqlite_database(Path(tmp), name="atp.db") as url:
            atp = atp_run(url, Path(tmp), node_count=sizes.atp_nodes, sku_count=sizes.atp_skus,
                          lookups=sizes.atp_lookups, gateway_requests=sizes.gateway_requests, progress=progress)
    return InventoryResults(reserves=reserves, multi_item=multi_item, atp=atp, method=_method(sizes))


# reservations


def _reserve_runs(database: str, url: str, sizes: InventorySizes,
                  progress: Progress) -> tuple[list[ReserveRun], MultiItemRun]:
    store = Store.connect(url)
    try:
        node_ids = [f"bench-dc-{n}" for n in range(RESERVE_NODES)]
        skus = [f"BENCH-{n:05d}" for n in range(RANDOM_SKUS)]
        seed(store, node_ids, ["HOT-1", *skus])
        hot = [(node_ids[0], "HOT-1")]
        spread = [(node, sku) for node in node_ids for sku in skus]
        runs = []
        for pattern, targets in (("one hot SKU", hot), ("random SKUs", spread)):
            label = f"{database}, {pattern}"
            store_count, store_s = _timed(sizes.reservations, progress, f"reserve: {label}",
                                          _store_reserve(store, targets))
            raw_count, raw_s = _timed(sizes.reservations, progress, f"raw UPDATE: {label}",
                                      _raw_reserve(store.engine, targets))
            with _DriverReserve(store.engine, targets) as driver:
                driver_count, driver_s = _timed(sizes.reservations, progress, f"driver UPDATE: {label}", driver)
            runs.append(ReserveRun(database, pattern, store_count, store_s, raw_count, raw_s, driver_count, driver_s))
        label = f"{database}, {ITEMS_PER_CALL} items"
        store_calls, store_s = _timed(sizes.reservations, progress, f"reserve: {label}",
                                      _store_reserve_many(store, node_ids, skus))
        raw_calls, raw_s = _timed(sizes.reservations, progress, f"raw UPDATEs: {label}",
                                  _raw_reserve_many(store.engine, node_ids, skus))
        return runs, MultiItemRun(database, ITEMS_PER_CALL, store_calls, store_s, raw_calls, raw_s)
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


_SQLALCHEMY_UPDATE = sa.text(RAW_UPDATE.format(q=":q", node=":node", sku=":sku"))


def _raw_reserve(engine: sa.Engine, targets: list[tuple[str, str]]) -> Callable[[random.Random], bool]:
    def reserve(rng: random.Random) -> bool:
        node_id, sku = rng.choice(targets)
        with engine.begin() as connection:
            return connection.execute(_SQLALCHEMY_UPDATE, {"q": 1, "node": node_id, "sku": sku}).rowcount == 1

    return reserve


def _store_reserve_many(store: Store, node_ids: list[str], skus: list[str]) -> Callable[[random.Random], bool]:
    """One `Store.reserve` of ITEMS_PER_CALL distinct random SKUs, one unit each, at one random node."""
    expires = datetime.now(UTC) + timedelta(hours=1)

    def reserve(rng: random.Random) -> bool:
        node_id, key = rng.choice(node_ids), uuid.uuid4().hex
        items = [ReservationItem(key=f"{key}-{n}", node_id=node_id, sku=sku, quantity=1)
                 for n, sku in enumerate(rng.sample(skus, ITEMS_PER_CALL))]
        return store.reserve(items, order_id=f"bench-{key}", expires_at=expires, source="bench").ok

    return reserve


def _raw_reserve_many(engine: sa.Engine, node_ids: list[str], skus: list[str]) -> Callable[[random.Random], bool]:
    """ITEMS_PER_CALL raw UPDATEs in one transaction, all or none, in SKU order (as the store locks them,
    so that two transactions on PostgreSQL queue rather than deadlock)."""
    def reserve(rng: random.Random) -> bool:
        node_id = rng.choice(node_ids)
        with engine.connect() as connection, connection.begin() as transaction:
            updated = sum(connection.execute(_SQLALCHEMY_UPDATE, {"q": 1, "node": node_id, "sku": sku}).rowcount
                          for sku in sorted(rng.sample(skus, ITEMS_PER_CALL)))
            if updated != ITEMS_PER_CALL:
                transaction.rollback()
                return False
            return True

    return reserve


class _DriverReserve:
    """The raw UPDATE on the DBAPI driver's own connection (sqlite3 or psycopg), no SQLAlchemy in the
    call: each thread keeps one connection from the engine's pool (so it has the store's SQLite
    settings) for the whole run, and every call is its own transaction, committed by the driver.
    A context manager: the connections go back to the pool on exit."""

    def __init__(self, engine: sa.Engine, targets: list[tuple[str, str]]) -> None:
        self._engine = engine
        self._targets = targets
        sqlite = engine.dialect.name == "sqlite"
        # The store's SQLite connections leave BEGIN to the caller (isolation_level None): say it, as
        # SQLAlchemy does for the raw path. psycopg opens the transaction with the first statement.
        self._begin = "BEGIN" if sqlite else None
        self._sql = RAW_UPDATE.format(**({"q": ":q", "node": ":node", "sku": ":sku"} if sqlite else
                                         {"q": "%(q)s", "node": "%(node)s", "sku": "%(sku)s"}))
        self._local = threading.local()
        self._held: list[Any] = []
        self._lock = threading.Lock()

    def __enter__(self) -> _DriverReserve:
        return self

    def __exit__(self, *_: object) -> None:
        with self._lock:
            held, self._held = self._held, []
        for connection in held:
            connection.close()

    def __call__(self, rng: random.Random) -> bool:
        node_id, sku = rng.choice(self._targets)
        connection = self._driver_connection()
        cursor = connection.cursor()
        try:
            if self._begin is not None:
                cursor.execute(self._begin)
            cursor.execute(self._sql, {"q": 1, "node": node_id, "sku": sku})
            reserved = bool(cursor.rowcount == 1)
            connection.commit()
        except BaseException:
            connection.rollback()
            raise
        finally:
            cursor.close()
        return reserved

    def _driver_connection(self) -> Any:
        pooled = getattr(self._local, "pooled", None)
        if pooled is None:
            pooled = self._engine.raw_connection()
            self._local.pooled = pooled
            with self._lock:
                self._held.append(pooled)
        return pooled.driver_connection


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


def _method(sizes: InventorySizes) -> list[str]:
    return [
        f"Reservations: up to {sizes.reservations} single-item reservations per run on {RESERVE_THREADS} threads, "
        f"at most {PHASE_TIME_LIMIT_S:.0f} s each, on a scratch database (a SQLite file; a fresh PostgreSQL "
        f"database, dropped afterwards). 'One hot SKU' reserves one (node, SKU); 'random SKUs' picks among "
        f"{RESERVE_NODES} nodes × {RANDOM_SKUS} SKUs. Omniroute's path is `Store.reserve` (idempotency insert, "
        "the conditional UPDATE, a ledger row, one transaction). The raw paths are the bare conditional "
        "`UPDATE ... WHERE on_hand - reserved - safety_stock >= :q`, one transaction per reservation, on the "
        "same database: through SQLAlchemy (`engine.begin()`, a pooled connection per call) and on the DBAPI "
        "driver's own connection (a sqlite3 or psycopg cursor on one connection per thread, committed by the "
        "driver). 'Ratio' is `Store.reserve` over the SQLAlchemy UPDATE; 'vs driver' over the driver UPDATE.",
        f"{ITEMS_PER_CALL} items per call: up to {sizes.reservations} calls per run, each reserving one unit of "
        f"{ITEMS_PER_CALL} distinct random SKUs (of {RANDOM_SKUS}) at one random node (of {RESERVE_NODES}): "
        f"`Store.reserve` with {ITEMS_PER_CALL} items against {ITEMS_PER_CALL} raw UPDATEs through SQLAlchemy in "
        "one transaction (all or none, in SKU order); counted in items per second.",
        f"ATP: {sizes.atp_nodes} nodes × {sizes.atp_skus} SKUs on SQLite; {sizes.atp_lookups} `Store.availability` "
        f"calls on random SKUs for the latency; then up to {sizes.gateway_requests} `GET /v1/availability?sku=` "
        f"requests from {GATEWAY_CONCURRENCY} concurrent httpx connections, twice: to the gateway app served by "
        "uvicorn on a thread of the bench's own interpreter (client and server share one GIL), and to the "
        "gateway in a process of its own (uvicorn on `gateway.app:create_app`, reading the same SQLite file; "
        "Temporal not needed). Both with uvicorn's access log off.",
    ]


def render_inventory(results: InventoryResults, *, section: int = 3) -> str:
    """The inventory sections of bench/RESULTS.md (reservations, multi-item reservations, ATP), as Markdown."""
    atp = results.atp
    lines = [
        f"## {section}. Inventory reservations: Omniroute's reserve path vs a raw conditional UPDATE",
        "",
        "| database | SKUs | `Store.reserve` per second | raw UPDATE (SQLAlchemy) per second | "
        "raw UPDATE (driver) per second | ratio | vs driver |",
        "|---|---|---:|---:|---:|---:|---:|",
        *(f"| {r.database} | {r.pattern} | {r.store_per_second:.0f} | {r.raw_per_second:.0f} | "
          f"{r.driver_per_second:.0f} | {format_ratio(r.ratio)} | {format_ratio(r.driver_ratio)} |"
          for r in results.reserves),
        "",
        f"## {section + 1}. Multi-item reservations, items per second",
        "",
        "| database | items per call | `Store.reserve` items per second | raw UPDATEs, one transaction, "
        "items per second | ratio |",
        "|---|---:|---:|---:|---:|",
        *(f"| {m.database} | {m.items_per_call} | {m.store_items_per_second:.0f} | {m.raw_items_per_second:.0f} | "
          f"{format_ratio(m.ratio)} |" for m in results.multi_item),
        "",
        f"## {section + 2}. ATP lookups, {atp.nodes} nodes × {atp.skus} SKUs",
        "",
        "| path | count | p50 | p99 | per second |",
        "|---|---:|---:|---:|---:|",
        f"| in process (`Store.availability`) | {atp.lookups} | {atp.p50_ms:.2f} ms | {atp.p99_ms:.2f} ms | |",
        f"| gateway in the bench's process (`GET /v1/availability?sku=`) | {atp.gateway_requests} | | | "
        f"{atp.gateway_per_second:.0f} |",
        f"| gateway in its own process (`GET /v1/availability?sku=`) | {atp.process_requests} | | | "
        f"{atp.process_per_second:.0f} |",
        "",
        "Inventory method:",
        "",
        *(f"- {item}" for item in results.method),
        "",
    ]
    return "\n".join(lines)
