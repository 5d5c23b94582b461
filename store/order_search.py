"""Order search over the read model (GET /v1/orders, `omniroute orders list`): newest first, by keyset.

Every page is one index range read in (created_at, order_id) order. The table the read starts from is
the most selective one the filters name: `order_skus` for a SKU, else `order_nodes` for a node, else
`orders` itself, where each filter column has an index ending in (created_at, order_id) and the planner
picks one. The other filters are conditions on the rows read (a carrier exception: a probe of the order's
shipments). A search over several channels (a channel
key serving more than one) reads each channel's page from its own index and merges them, instead of
sorting every order of those channels.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement, Executable

from models.money import Money
from models.order import HoldReason, OrderStatus
from models.order_search import OrderCursor, OrderPage, OrderSearch, OrderSummary
from store.engine import Database
from store.tables import UTCDateTime, order_nodes, order_skus, orders, shipments

_SUMMARY_COLUMNS = (
    orders.c.order_id, orders.c.channel, orders.c.channel_order_id, orders.c.status, orders.c.currency,
    orders.c.lines, orders.c.created_at, orders.c.updated_at, orders.c.has_backorders, orders.c.hold_reason,
)


class OrderSearchRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    def search(self, query: OrderSearch) -> OrderPage:
        with self._db.read() as connection:
            rows = connection.execute(search_statement(query)).all()
            page = rows[: query.limit]
            nodes = _nodes_of(connection, [row.order_id for row in page])
        next_cursor = None
        if len(rows) > query.limit:
            last = page[-1]
            next_cursor = OrderCursor(created_at=last.created_at, order_id=last.order_id).encode()
        return OrderPage(items=[_summary(row, nodes[row.order_id]) for row in page], next_cursor=next_cursor)

    def explain(self, query: OrderSearch) -> list[str]:
        """The database's plan for the page's query, one line per step (SQLite's EXPLAIN QUERY PLAN
        details, PostgreSQL's EXPLAIN text): what tests and the benchmark check for index use."""
        with self._db.read() as connection:
            rows = connection.execute(_Explain(search_statement(query))).all()
        return [str(row[-1]) if self._db.dialect == "sqlite" else str(row[0]) for row in rows]


def search_statement(query: OrderSearch) -> sa.Select[Any]:
    """The page's query: `query.limit + 1` rows, so that a full page knows whether another follows."""
    channels = None if query.channels is None else sorted(query.channels)
    if channels is None or len(channels) <= 1:
        return _page(query, channels)
    merged = sa.union_all(*(_page(query, [channel]).subquery().select() for channel in channels)).subquery()
    return sa.select(merged).order_by(merged.c.created_at.desc(), merged.c.order_id.desc()).limit(query.limit + 1)


def _page(query: OrderSearch, channels: Sequence[str] | None) -> sa.Select[Any]:
    driver: sa.Table = orders
    source: sa.FromClause = orders
    conditions: list[sa.ColumnElement[bool]] = []
    if query.sku is not None:
        driver = order_skus
        conditions.append(order_skus.c.sku == query.sku)
    elif query.node_id is not None:
        driver = order_nodes
        conditions.append(order_nodes.c.node_id == query.node_id)
    if driver is not orders:
        source = driver.join(orders, orders.c.order_id == driver.c.order_id)
    if query.node_id is not None and driver is not order_nodes:
        conditions.append(sa.exists().where(order_nodes.c.order_id == orders.c.order_id,
                                            order_nodes.c.node_id == query.node_id))
    created, order_id = driver.c.created_at, driver.c.order_id
    conditions += _order_conditions(query, channels)
    if query.created_from is not None:
        conditions.append(created >= query.created_from)
    if query.created_to is not None:
        conditions.append(created < query.created_to)
    if query.after is not None:
        after = sa.tuple_(sa.literal(query.after.created_at, UTCDateTime()), sa.literal(query.after.order_id))
        conditions.append(sa.tuple_(created, order_id) < after)
    return (sa.select(*_SUMMARY_COLUMNS).select_from(source).where(*conditions)
            .order_by(created.desc(), order_id.desc()).limit(query.limit + 1))


class _Explain(Executable, ClauseElement):
    """EXPLAIN of a statement, run with its parameters bound as the statement's own would be."""

    inherit_cache = False

    def __init__(self, statement: sa.Select[Any]) -> None:
        self.statement = statement


@compiles(_Explain)
def _compile_explain(element: _Explain, compiler: SQLCompiler, **kwargs: Any) -> str:
    prefix = "EXPLAIN QUERY PLAN" if compiler.dialect.name == "sqlite" else "EXPLAIN"
    return f"{prefix} {compiler.process(element.statement, **kwargs)}"


def _order_conditions(query: OrderSearch, channels: Sequence[str] | None) -> list[sa.ColumnElement[bool]]:
    conditions: list[sa.ColumnElement[bool]] = []
    if channels is not None:
        conditions.append(orders.c.channel == channels[0] if len(channels) == 1 else orders.c.channel.in_(channels))
    if query.status is not None:
        conditions.append(orders.c.status == query.status.value)
    if query.held is not None:
        held = OrderStatus.HELD.value
        conditions.append(orders.c.status == held if query.held else orders.c.status != held)
    if query.hold_reason is not None:
        conditions.append(orders.c.hold_reason == query.hold_reason.value)
    if query.backordered is not None:
        conditions.append(orders.c.has_backorders == query.backordered)
    if query.customer_email is not None:
        conditions.append(orders.c.customer_email == query.customer_email)
    conditions += _exception_conditions(query)
    return conditions


def _exception_conditions(query: OrderSearch) -> list[sa.ColumnElement[bool]]:
    """Orders with (or without) a shipment whose carrier exception is open: a probe of the order's
    shipments by their order_id index, for each order the page reads."""
    conditions: list[sa.ColumnElement[bool]] = []
    if query.tracking_exception is not None:
        conditions.append(sa.exists().where(shipments.c.order_id == orders.c.order_id,
                                            shipments.c.exception == query.tracking_exception.value))
    if query.exception is not None:
        open_exception = sa.exists().where(shipments.c.order_id == orders.c.order_id,
                                           shipments.c.exception.is_not(None))
        conditions.append(open_exception if query.exception else ~open_exception)
    return conditions


def _nodes_of(connection: sa.Connection, order_ids: list[str]) -> dict[str, list[str]]:
    nodes: dict[str, list[str]] = defaultdict(list)
    if order_ids:
        query = (sa.select(order_nodes.c.order_id, order_nodes.c.node_id)
                 .where(order_nodes.c.order_id.in_(order_ids)).order_by(order_nodes.c.order_id, order_nodes.c.node_id))
        for order_id, node_id in connection.execute(query):
            nodes[order_id].append(node_id)
    return nodes


def _summary(row: sa.Row[Any], node_ids: list[str]) -> OrderSummary:
    total = sum(int(line["unit_price"]) * int(line["quantity"]) for line in row.lines)
    return OrderSummary(
        order_id=row.order_id, channel=row.channel, channel_order_id=row.channel_order_id,
        status=OrderStatus(row.status), currency=row.currency, total=Money(amount=total, currency=row.currency),
        created_at=row.created_at, updated_at=row.updated_at, has_backorders=row.has_backorders, node_ids=node_ids,
        hold_reason=HoldReason(row.hold_reason) if row.hold_reason else None,
    )
