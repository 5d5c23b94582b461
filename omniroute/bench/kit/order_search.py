"""Order search benchmark: the latency of typical searches (GET /v1/orders) over a large order history
on a scratch SQLite app DB (bench/kit/order_load.py), and the index each one reads.

Each search runs through `Store.search_orders`, a page of 50, with parameters drawn at random per call
(a channel by its share of orders, a SKU by its popularity, any customer, any node, any day), after a
few unmeasured calls; one more runs through the gateway app in the bench's process. The plan of each
search is read with EXPLAIN QUERY PLAN and reported with the index it uses.
"""

from __future__ import annotations

import asyncio
import random
import re
import secrets
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from rich.progress import Progress

from models.order import OrderStatus
from models.order_search import OrderCursor, OrderSearch
from omniroute.bench.kit.order_load import CHANNELS, NODES, STATUSES, LoadTimes, OrderHistory, a_history, load_history
from omniroute.bench.kit.scratch import PHASE_TIME_LIMIT_S, sqlite_database
from omniroute.simulation.stats import percentile
from store import Store

SEARCH_SECTION = 9
SECTION_TITLE = "Order search (`GET /v1/orders`)"
PAGE = 50
WARM_UP = 5
_INDEX = re.compile(r"USING (?:COVERING )?INDEX (\w+)")


@dataclass(frozen=True)
class SearchSizes:
    orders: int
    searches: int

    @classmethod
    def for_mode(cls, quick: bool) -> SearchSizes:
        return cls(orders=50_000, searches=50) if quick else cls(orders=1_000_000, searches=300)


@dataclass(frozen=True)
class SearchTiming:
    label: str
    example: str
    count: int
    p50_ms: float
    p95_ms: float
    mean_rows: float
    indexes: tuple[str, ...]


@dataclass(frozen=True)
class SearchFigures:
    sizes: SearchSizes
    history: OrderHistory
    load: LoadTimes
    database_mib: float
    timings: list[SearchTiming]


def typical_searches(history: OrderHistory) -> dict[str, Callable[[random.Random], dict[str, Any]]]:
    """Each typical search: its label and how to draw one call's filters (OrderSearch fields)."""
    channels, weights = list(CHANNELS), list(CHANNELS.values())
    span = history.days * 86_400

    def a_channel(rng: random.Random) -> str:
        return rng.choices(channels, weights)[0]

    return {
        "newest orders": lambda rng: {},
        "by channel": lambda rng: {"channels": {a_channel(rng)}},
        "by channel, second page (cursor)": lambda rng: {"channels": {a_channel(rng)}},
        "by status (held)": lambda rng: {"status": OrderStatus.HELD},
        "by status (fulfilling)": lambda rng: {"status": OrderStatus.FULFILLING},
        "backordered": lambda rng: {"backordered": True},
        "by SKU": lambda rng: {"sku": history.popular_sku(rng)},
        "by customer e-mail": lambda rng: {"customer_email": history.customer_email(rng.randrange(history.customers))},
        "by node": lambda rng: {"node_id": f"dc-{rng.randrange(NODES):02d}"},
        "created in a given hour": lambda rng: _hour(history, rng.randrange(span - 3600)),
        "by channel and status (held)": lambda rng: {"channels": {a_channel(rng)}, "status": OrderStatus.HELD},
        "channel key of two channels": lambda rng: {"channels": set(rng.sample(channels[:4], 2))},
    }


def _hour(history: OrderHistory, second: int) -> dict[str, Any]:
    start = history.start + timedelta(seconds=second)
    return {"created_from": start, "created_to": start + timedelta(hours=1)}


def run_search_bench(sizes: SearchSizes, progress: Progress) -> SearchFigures:
    history = a_history(sizes.orders)
    with tempfile.TemporaryDirectory(prefix="omniroute-bench-search-") as tmp, \
            sqlite_database(Path(tmp), "orders.db") as url:
        store = Store.connect(url)
        try:
            loading = progress.add_task(f"search: load {sizes.orders:,} orders", total=sizes.orders)
            load = load_history(store, history, lambda n: progress.advance(loading, n))
            database_mib = sum(path.stat().st_size for path in Path(tmp).glob("orders.db*")) / 2**20
            searches = typical_searches(history)
            timing = progress.add_task("search: typical searches", total=len(searches) + 1)
            timings = []
            for n, (label, draw) in enumerate(searches.items()):
                timings.append(_time_search(store, label, draw, sizes.searches, random.Random(100 + n),
                                            second_page="second page" in label))
                progress.advance(timing)
            timings.append(asyncio.run(_time_gateway(store, searches["by channel"], sizes.searches)))
            progress.advance(timing)
        finally:
            store.dispose()
    return SearchFigures(sizes=sizes, history=history, load=load, database_mib=database_mib, timings=timings)


def _time_search(store: Store, label: str, draw: Callable[[random.Random], dict[str, Any]], count: int,
                 rng: random.Random, *, second_page: bool) -> SearchTiming:
    def query() -> OrderSearch:
        search = OrderSearch.model_validate(draw(rng) | {"limit": PAGE})
        if not second_page:
            return search
        first = store.search_orders(search)
        cursor = first.next_cursor
        return search if cursor is None else search.model_copy(update={"after": OrderCursor.decode(cursor)})

    example = query()
    indexes = tuple(dict.fromkeys(found for step in store.explain_order_search(example)
                                  for found in _INDEX.findall(step)))
    for _ in range(WARM_UP):
        store.search_orders(query())
    latencies: list[float] = []
    rows = 0
    deadline = time.monotonic() + PHASE_TIME_LIMIT_S
    while len(latencies) < count and time.monotonic() < deadline:
        search = query()
        started = time.perf_counter()
        page = store.search_orders(search)
        latencies.append((time.perf_counter() - started) * 1000)
        rows += len(page.items)
    return SearchTiming(label=label, example=_describe(example), count=len(latencies),
                        p50_ms=percentile(latencies, 50), p95_ms=percentile(latencies, 95),
                        mean_rows=rows / len(latencies), indexes=indexes)


async def _time_gateway(store: Store, draw: Callable[[random.Random], dict[str, Any]], count: int) -> SearchTiming:
    """GET /v1/orders?channel= through the gateway app in this process (ASGI, no socket), with an admin key."""
    from gateway.app import create_app
    from omniroute.config.settings import Settings

    token = f"omr_bench_{secrets.token_urlsafe(32)}"
    # No rate limit to meet: the figure is the route's own latency.
    settings = Settings(environment="test", bootstrap_admin_key=token, rate_limit_per_second=1e9,
                        rate_limit_burst=10**9)
    app = create_app(settings, store=store)
    rng = random.Random(99)
    latencies: list[float] = []
    rows = 0
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway",
                                 headers={"Authorization": f"Bearer {token}"}) as http:
        deadline = time.monotonic() + PHASE_TIME_LIMIT_S
        for n in range(WARM_UP + count):
            if time.monotonic() > deadline:
                break
            params = {"channel": next(iter(draw(rng)["channels"])), "limit": PAGE}
            started = time.perf_counter()
            response = await http.get("/v1/orders", params=params)
            elapsed = (time.perf_counter() - started) * 1000
            response.raise_for_status()
            if n >= WARM_UP:
                latencies.append(elapsed)
                rows += len(response.json()["items"])
    return SearchTiming(label="by channel, through the gateway (in process)", example="GET /v1/orders?channel=…",
                        count=len(latencies), p50_ms=percentile(latencies, 50), p95_ms=percentile(latencies, 95),
                        mean_rows=rows / len(latencies), indexes=())


def _describe(search: OrderSearch) -> str:
    fields = search.model_dump(exclude_defaults=True, exclude={"limit"})
    parts = []
    for name, value in fields.items():
        if name == "channels":
            parts.append("channel=" + ",".join(sorted(value)))
        elif name == "after":
            parts.append("cursor=…")
        elif name in ("created_from", "created_to"):
            parts.append(f"{name}={value:%Y-%m-%dT%H:%M}Z")
        else:
            parts.append(f"{name}={getattr(value, 'value', value)}")
    return "&".join(parts) or "(none)"


def with_search_section(report: str, section: str) -> str:
    """`report` with its order search section replaced by `section` (added at the end if it has none)."""
    lines = report.splitlines()
    start = next((n for n, line in enumerate(lines) if line.startswith("## ") and SECTION_TITLE in line), None)
    if start is None:
        return (report.rstrip("\n") + "\n\n" if report.strip() else "") + section
    end = next((n for n in range(start + 1, len(lines)) if lines[n].startswith("## ")), len(lines))
    rest = "\n".join(lines[end:])
    return "\n".join(lines[:start]) + "\n" + section + ("\n" + rest + "\n" if rest else "")


def render_search(figures: SearchFigures, *, section: int, note: str | None = None) -> str:
    s, h, load = figures.sizes, figures.history, figures.load

    def shares(weights: dict[str, int]) -> str:
        return ", ".join(f"{name} {weight}%" for name, weight in weights.items())

    rows = [f"| {t.label} | `{t.example}` | {t.count} | {t.p50_ms:.2f} ms | {t.p95_ms:.2f} ms | {t.mean_rows:.0f} "
            f"| {', '.join(f'`{index}`' for index in t.indexes) or 'as by channel'} |" for t in figures.timings]
    return "\n".join([
        f"## {section}. {SECTION_TITLE} over {s.orders:,} orders",
        "",
        *([note, ""] if note else []),
        "| search | example | searches | p50 | p95 | orders per page | index read (EXPLAIN QUERY PLAN) |",
        "|---|---|---:|---:|---:|---:|---|",
        *rows,
        "",
        f"Load: {s.orders:,} orders, {load.order_skus:,} (order, SKU) and {load.order_nodes:,} (order, node) rows in "
        f"{load.rows_seconds:.1f} s, the search indexes built in {load.index_seconds:.1f} s; "
        f"{figures.database_mib:,.0f} MiB of SQLite.",
        "",
        "Method:",
        "",
        f"- A generated history (seed {h.seed}) in a scratch SQLite file migrated to the newest schema: "
        f"{s.orders:,} orders over {h.days} days, {s.orders / (h.days * 1440):.1f} a minute on average, created "
        f"at whole minutes (so that orders share creation times), on {len(CHANNELS)} channels ({shares(CHANNELS)}), "
        f"{h.customers:,} customers, {h.skus:,} SKUs of steeply falling popularity on 1-3 lines, shipments at 1-2 "
        f"of {NODES} nodes once past intake; statuses {shares(STATUSES)}. Written through SQLAlchemy Core in "
        "batches of 20,000 with the search indexes dropped, then built again (a bulk import); no ANALYZE, as in "
        "production.",
        f"- Each search: {WARM_UP} unmeasured calls, then up to {s.searches} calls of `Store.search_orders` (at "
        f"most {PHASE_TIME_LIMIT_S:.0f} s), a page of {PAGE}, parameters drawn per call as the example shows (a "
        "channel by its share, a SKU by popularity, any customer, node or hour); the time is the whole call "
        "(query, the page's nodes, the summaries). The second page is timed alone, its first page untimed. The "
        "gateway row is the same channel search as `GET /v1/orders` through the gateway app in the bench's "
        "process (httpx over ASGI, an admin key), JSON included.",
        "",
    ])
