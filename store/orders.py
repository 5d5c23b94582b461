"""The read model: orders, shipments and returns as reporting, the gateway and operators see them."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel

from models.address import Address
from models.handoff import ReleasedShipment
from models.order import HoldReason, OrderLineIn, OrderStatus
from models.order_search import normalise_email
from models.plan import SourcingDecision
from models.records import OrderRecord, ReturnRecord, ShipmentRecord
from models.returns import ReturnStatus
from models.shipment import ShipmentState
from store import events
from store.engine import Database
from store.errors import UnknownOrderError
from store.tables import order_nodes, order_skus, orders, returns, shipments

_FINAL_STATUSES = [status.value for status in OrderStatus if status.is_final]
# Returns that never brought anything back do not count against what may still be returned.
_VOID_RETURN_STATUSES = (ReturnStatus.REJECTED.value, ReturnStatus.EXPIRED.value)


class OrderRepository:
    """Orders: recorded once at intake, then only their status moves."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def record(self, order: OrderRecord) -> bool:
        """Insert `order` and its search keys (e-mail, SKUs); False (and nothing changes) if its order_id
        is already recorded."""
        values = _row_values(order, {"customer", "ship_to", "lines", "decision"}) | {
            "updated_at": datetime.now(UTC), "customer_email": normalise_email(order.customer.email)}
        statement = (
            self._db.insert(orders)
            .values(values)
            .on_conflict_do_nothing(index_elements=["order_id"])
            .returning(orders.c.order_id)
        )
        skus = [{"order_id": order.order_id, "sku": sku, "created_at": order.created_at}
                for sku in sorted({line.sku for line in order.lines})]
        with self._db.write() as connection:
            if connection.execute(statement).first() is None:
                return False
            connection.execute(sa.insert(order_skus), skus)
            events.order_accepted(connection, self._db, order)
            return True

    def get(self, order_id: str) -> OrderRecord | None:
        with self._db.read() as connection:
            row = connection.execute(sa.select(orders).where(orders.c.order_id == order_id)).one_or_none()
        if row is None:
            return None
        return _order_record(row)

    def placed_since(self, since: datetime) -> list[tuple[Address, list[OrderLineIn]]]:
        """Where each order created at or after `since` goes and what it holds, oldest first."""
        query = (sa.select(orders.c.ship_to, orders.c.lines).where(orders.c.created_at >= since)
                 .order_by(orders.c.created_at))
        with self._db.read() as connection:
            return [(Address.model_validate(row.ship_to), [OrderLineIn.model_validate(line) for line in row.lines])
                    for row in connection.execute(query)]

    def set_release_at(self, order_id: str, release_at: datetime | None) -> None:
        """When the order's shipments are released (None: released, or not held for a wave)."""
        with self._db.write() as connection:
            connection.execute(sa.update(orders).where(orders.c.order_id == order_id).values(release_at=release_at))

    def awaiting_release(self, now: datetime, *, limit: int) -> list[OrderRecord]:
        """Orders held for a release wave whose release time is still ahead, soonest first."""
        query = (sa.select(orders).where(orders.c.release_at > now).order_by(orders.c.release_at, orders.c.order_id)
                 .limit(limit))
        with self._db.read() as connection:
            return [_order_record(row) for row in connection.execute(query)]

    def set_backorders(self, order_id: str, skus: list[str]) -> None:
        """The SKUs the order has units of on backorder (none: empty)."""
        with self._db.write() as connection:
            connection.execute(sa.update(orders).where(orders.c.order_id == order_id).values(
                backordered_skus=sorted(set(skus)), has_backorders=bool(skus)))

    def with_backorders(self, *, limit: int) -> list[tuple[str, str, list[str]]]:
        """(order_id, workflow_id, backordered SKUs) of orders with units on backorder, oldest first."""
        query = (sa.select(orders.c.order_id, orders.c.workflow_id, orders.c.backordered_skus)
                 .where(orders.c.has_backorders.is_(True), orders.c.status.not_in(_FINAL_STATUSES))
                 .order_by(orders.c.created_at).limit(limit))
        with self._db.read() as connection:
            return [(row.order_id, row.workflow_id, list(row.backordered_skus)) for row in connection.execute(query)]

    def set_status(self, order_id: str, status: OrderStatus, hold_reason: HoldReason | None = None) -> None:
        """Raises UnknownOrderError if the order was never recorded. `hold_reason` is kept only while the
        status is held."""
        reason = hold_reason.value if hold_reason is not None and status is OrderStatus.HELD else None
        statement = (
            sa.update(orders)
            .where(orders.c.order_id == order_id)
            .values(status=status.value, hold_reason=reason, updated_at=datetime.now(UTC))
        )
        with self._db.write() as connection:
            before = _locked_value(connection, self._db, orders.c.status, orders.c.order_id == order_id)
            if connection.execute(statement).rowcount == 0:
                raise UnknownOrderError(order_id)
            events.order_status_changed(connection, self._db, order_id, before, status, hold_reason)

    def set_decision(self, order_id: str, decision: SourcingDecision) -> None:
        """Keep the sourcing decision (replacing an earlier one: a re-plan). UnknownOrderError if unrecorded."""
        statement = (
            sa.update(orders)
            .where(orders.c.order_id == order_id)
            .values(decision=decision.model_dump(mode="json"), updated_at=datetime.now(UTC))
        )
        with self._db.write() as connection:
            if connection.execute(statement).rowcount == 0:
                raise UnknownOrderError(order_id)


class ShipmentRepository:
    """Shipments, upserted whole by shipment_id as their state moves."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def record(self, shipment: ShipmentRecord) -> None:
        """Insert or replace the shipment; its order (once recorded) is then found by its node too."""
        node_key = (
            self._db.insert(order_nodes)
            .from_select(["order_id", "node_id", "created_at"],
                         sa.select(orders.c.order_id, sa.literal(shipment.node_id, sa.String), orders.c.created_at)
                         .where(orders.c.order_id == shipment.order_id))
            .on_conflict_do_nothing(index_elements=["order_id", "node_id"])
        )
        with self._db.write() as connection:
            before = _locked_value(connection, self._db, shipments.c.state,
                                   shipments.c.shipment_id == shipment.shipment_id)
            _upsert_in(connection, self._db, shipments, "shipment_id", _row_values(shipment, {"lines"}))
            connection.execute(node_key)
            events.shipment_changed(connection, self._db, before, shipment)

    def get(self, shipment_id: str) -> ShipmentRecord | None:
        found = self._select(shipments.c.shipment_id == shipment_id)
        return found[0] if found else None

    def find_by_tracking(self, tracking_number: str) -> ShipmentRecord | None:
        """The shipment with this tracking number (the lowest shipment id should two share one)."""
        found = self._select(shipments.c.tracking_number == tracking_number)
        return found[0] if found else None

    def for_order(self, order_id: str) -> list[ShipmentRecord]:
        return self._select(shipments.c.order_id == order_id)

    def for_node(self, node_id: str, *, state: ShipmentState | None, cancel_requested: bool | None,
                 after: str | None, limit: int) -> list[ReleasedShipment]:
        """A node's shipments as its WMS reads them (with the order's ship-to), by shipment id, from
        after `after`: in `state` (any when None), asked to cancel or not when `cancel_requested` says."""
        query = (sa.select(shipments, orders.c.ship_to)
                 .join(orders, orders.c.order_id == shipments.c.order_id)
                 .where(shipments.c.node_id == node_id)
                 .order_by(shipments.c.shipment_id).limit(limit))
        if state is not None:
            query = query.where(shipments.c.state == state.value)
        if cancel_requested is not None:
            query = query.where(shipments.c.cancel_requested.is_(cancel_requested))
        if after is not None:
            query = query.where(shipments.c.shipment_id > after)
        with self._db.read() as connection:
            return [ReleasedShipment.model_validate(
                        {name: row._mapping[name] for name in ReleasedShipment.model_fields})
                    for row in connection.execute(query)]

    def _select(self, condition: sa.ColumnElement[bool]) -> list[ShipmentRecord]:
        query = sa.select(shipments).where(condition).order_by(shipments.c.shipment_id)
        with self._db.read() as connection:
            return [ShipmentRecord.model_validate(dict(row._mapping)) for row in connection.execute(query)]


class ReturnRepository:
    """Returns (RMAs), upserted whole by rma."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def record(self, ret: ReturnRecord) -> None:
        with self._db.write() as connection:
            before = _locked_value(connection, self._db, returns.c.status, returns.c.rma == ret.rma)
            _upsert_in(connection, self._db, returns, "rma", _row_values(ret, {"lines"}))
            events.return_changed(connection, self._db, before, ret)

    def get(self, rma: str) -> ReturnRecord | None:
        with self._db.read() as connection:
            row = connection.execute(sa.select(returns).where(returns.c.rma == rma)).one_or_none()
        return None if row is None else ReturnRecord.model_validate(dict(row._mapping))

    def returned_quantities(self, order_id: str, *, exclude_rma: str | None = None) -> dict[str, int]:
        """Units per SKU on the order's returns that are not rejected or expired."""
        query = sa.select(returns.c.lines).where(
            returns.c.order_id == order_id, returns.c.status.not_in(_VOID_RETURN_STATUSES)
        )
        if exclude_rma is not None:
            query = query.where(returns.c.rma != exclude_rma)
        totals: Counter[str] = Counter()
        with self._db.read() as connection:
            for (lines,) in connection.execute(query):
                for line in lines:
                    totals[line["sku"]] += int(line["quantity"])
        return dict(totals)


def _order_record(row: sa.Row[Any]) -> OrderRecord:
    """The record from an orders row; the columns only the store uses (updated_at, release_at, ...) stay out."""
    return OrderRecord.model_validate({name: row._mapping[name] for name in OrderRecord.model_fields})


def _row_values(record: BaseModel, json_fields: set[str]) -> dict[str, Any]:
    """Column values of `record`: nested parts as plain JSON, the rest (timestamps too) as they are."""
    values = record.model_dump(exclude=json_fields)
    values.update(record.model_dump(mode="json", include=json_fields))
    return values


def _locked_value(connection: sa.Connection, database: Database, column: sa.Column[Any],
                  where: sa.ColumnElement[bool]) -> Any:
    """The column's value before a write (None: no row), the row locked on Postgres (the outbox compares)."""
    return connection.execute(database.for_update(sa.select(column).where(where))).scalar_one_or_none()


def _upsert_in(
    connection: sa.Connection, database: Database, table: sa.Table, key: str, values: dict[str, Any]
) -> None:
    statement = database.insert(table).values(values)
    statement = statement.on_conflict_do_update(
        index_elements=[key], set_={name: statement.excluded[name] for name in values if name != key}
    )
    connection.execute(statement)
