"""A generated order history loaded in bulk into a scratch app DB, for the order search benchmark.

Orders arrive in time order over `days` days, a few a minute sharing the same creation time (whole
minutes), on eight channels of unequal size, from customers who order about five times each, with one
to three lines of SKUs whose popularity falls off steeply, and shipments at one or two of 50 nodes
once they are past the hold and intake. The rows go straight into the tables (orders, order_skus,
order_nodes) through SQLAlchemy Core in batches, with the search indexes dropped during the load and
built again after it, as a bulk import would; shipments themselves are not written (the search never
reads them).
"""

from __future__ import annotations

import functools
import itertools
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from store import Store
from store.tables import order_nodes, order_skus, orders

CHANNELS = {"web": 40, "amazon": 25, "pos": 15, "ebay": 8, "walmart": 6, "target": 3, "etsy": 2, "wholesale": 1}
STATUSES = {"completed": 70, "shipped": 8, "fulfilling": 8, "cancelled": 5, "received": 3, "partially_shipped": 2,
            "failed": 1, "held": 2, "backordered": 1}
UNSHIPPED = {"received", "held", "cancelled", "failed"}
NODES = 50
ORDERS_PER_CUSTOMER = 5
BATCH = 20_000
_SHIP_TO = json.dumps({"name": "Bench Customer", "line1": "1 Main St", "city": "Chicago", "region": "IL",
                       "postal_code": "60601", "country": "US"})
# Lines per order: one, one, two or three.
_LINES = (1, 1, 2, 3)


@dataclass(frozen=True)
class OrderHistory:
    """What was generated: the sizes the searches draw their parameters from."""

    orders: int
    skus: int
    customers: int
    start: datetime
    days: int
    seed: int

    @property
    def end(self) -> datetime:
        return self.start + timedelta(days=self.days)

    def customer_email(self, n: int) -> str:
        return f"customer{n}@example.com"

    def sku(self, n: int) -> str:
        return f"SKU-{n:05d}"

    def popular_sku(self, rng: random.Random) -> str:
        """A SKU drawn with the orders' own skew (a cube of a uniform: low numbers are popular)."""
        return self.sku(int(self.skus * rng.random() ** 3))


@dataclass(frozen=True)
class LoadTimes:
    rows_seconds: float
    index_seconds: float
    order_skus: int
    order_nodes: int


def load_history(store: Store, history: OrderHistory, on_batch: Callable[[int], None]) -> LoadTimes:
    """Insert the history's orders and search keys into a SQLite scratch DB; `on_batch(n)` after every
    n orders written."""
    if store.engine.dialect.name != "sqlite":
        raise ValueError("the order history is written in SQLite's storage format")
    tables = (orders, order_skus, order_nodes)
    rng = random.Random(history.seed)
    counts = {"skus": 0, "nodes": 0}
    with store.engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA cache_size = -1000000")  # 1 GB for the load's B-trees
        connection.commit()
        started = time.perf_counter()
        with connection.begin():
            for table in tables:
                for index in table.indexes:
                    index.drop(connection)
        for first in range(0, history.orders, BATCH):
            rows, skus, nodes = _batch(history, rng, first, min(BATCH, history.orders - first))
            with connection.begin():
                connection.execute(sa.insert(_raw(orders)), rows)
                connection.execute(sa.insert(_raw(order_skus)), skus)
                if nodes:
                    connection.execute(sa.insert(_raw(order_nodes)), nodes)
            counts["skus"] += len(skus)
            counts["nodes"] += len(nodes)
            on_batch(len(rows))
        loaded = time.perf_counter()
        with connection.begin():
            for table in tables:
                for index in table.indexes:
                    index.create(connection)
        indexed = time.perf_counter()
        # As a bulk import ends: the write-ahead log moved into the database file.
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.commit()
    return LoadTimes(rows_seconds=loaded - started, index_seconds=indexed - loaded, order_skus=counts["skus"],
                     order_nodes=counts["nodes"])


def _raw(table: sa.Table) -> sa.TableClause:
    """`table` with untyped columns: values go in as given, already in the form the typed columns store
    (JSON as text, timestamps as SQLite's naive UTC text), which spares a conversion per value."""
    return sa.table(table.name, *(sa.column(column.name) for column in table.columns))


def _batch(history: OrderHistory, rng: random.Random, first: int,
           size: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    channels = rng.choices(list(CHANNELS), cum_weights=list(itertools.accumulate(CHANNELS.values())), k=size)
    statuses = rng.choices(list(STATUSES), cum_weights=list(itertools.accumulate(STATUSES.values())), k=size)
    minutes_apart = history.days * 1440 / history.orders
    random_ = rng.random
    rows, skus, nodes = [], [], []
    for n in range(first, first + size):
        channel, status = channels[n - first], statuses[n - first]
        created = _sqlite_time(history.start + timedelta(minutes=int(n * minutes_apart)))
        order_id = f"{channel}-{100_000 + n}"
        email = history.customer_email(int(random_() * history.customers))
        line_skus = sorted({history.sku(int(history.skus * random_() ** 3)) for _ in range(_LINES[int(random_() * 4)])})
        lines = ", ".join(f'{{"sku": "{sku}", "quantity": {1 + int(random_() * 3)}, '
                          f'"unit_price": {500 + int(random_() * 19_500)}}}' for sku in line_skus)
        backordered = status == "backordered" or random_() < 0.005
        rows.append({
            "order_id": order_id, "workflow_id": f"order-{order_id}", "channel": channel,
            "channel_order_id": str(100_000 + n), "status": status, "currency": "USD",
            "customer": f'{{"email": "{email}", "name": "Bench Customer"}}', "ship_to": _SHIP_TO, "lines": f"[{lines}]",
            "created_at": created, "updated_at": created, "customer_email": email, "backordered_skus": "[]",
            "has_backorders": backordered, "decision": None, "release_at": None,
        })
        skus += [{"order_id": order_id, "sku": sku, "created_at": created} for sku in line_skus]
        if status not in UNSHIPPED:
            at = {f"dc-{int(random_() * NODES):02d}" for _ in range(1 if random_() < 0.85 else 2)}
            nodes += [{"order_id": order_id, "node_id": node, "created_at": created} for node in at]
    return rows, skus, nodes


@functools.lru_cache(maxsize=4096)
def _sqlite_time(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def a_history(orders_count: int, *, seed: int = 7) -> OrderHistory:
    return OrderHistory(orders=orders_count, skus=max(100, orders_count // 50),
                        customers=max(10, orders_count // ORDERS_PER_CUSTOMER),
                        start=datetime(2025, 1, 1, tzinfo=UTC), days=180, seed=seed)
