"""The event outbox: the read model's writes append the events they cause, in their own transaction.

Each `*_changed` function is called by a write of store/orders.py with the state the row had before the
write (None: there was no row) and what it has now, inside that write's transaction. It appends an event
only when the state moved into one that is reported (docs/events.md), under a deterministic id (subject,
type, new state, occurrence): a retried or replayed write finds the state already moved and appends
nothing, and should two writers race, the outbox's unique event id keeps one. `record_refund` is the entry
for a refund activity; `inventory_changes` turns the inventory ledger (itself append-only and written in
the transaction of each movement) into coalesced `inventory.changed` events, one per position per call.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from models.events import Event, EventType, event_id
from models.order import HoldReason, OrderStatus
from models.records import OrderRecord, ReturnRecord, ShipmentRecord
from models.returns import ReturnStatus
from models.shipment import ShipmentState
from store.engine import Database
from store.tables import event_cursors, event_outbox, event_subscriptions, inventory_ledger, inventory_positions

_OUT = event_outbox.c
_SHIPPED = frozenset({ShipmentState.SHIPPED, ShipmentState.IN_TRANSIT, ShipmentState.OUT_FOR_DELIVERY})
_DELIVERED = frozenset({ShipmentState.DELIVERED, ShipmentState.COLLECTED})
# Where the ledger's change feed was last read for inventory.changed (a row of event_cursors).
INVENTORY_CURSOR = "inventory.changed"


def emit(connection: Connection, database: Database, event_type: EventType, subject: str, state: str,
         data: dict[str, Any], *, order_id: str | None = None, at: datetime | None = None,
         once: bool = False) -> str | None:
    """Append the next occurrence of `event_type` for `subject` reaching `state` (only the first, when
    `once`: the subject can reach it only once); its id, or None when an event with that id is already there."""
    occurrence = 1 if once else 1 + connection.execute(
        sa.select(sa.func.count()).select_from(event_outbox)
        .where(_OUT.subject == subject, _OUT.type == event_type.value)).scalar_one()
    new_id = event_id(event_type, subject, state, occurrence)
    statement = (database.insert(event_outbox)
                 .values(event_id=new_id, type=event_type.value, subject=subject, order_id=order_id,
                         occurred_at=at or datetime.now(UTC), data=data)
                 .on_conflict_do_nothing(index_elements=["event_id"]).returning(_OUT.seq))
    return new_id if connection.execute(statement).first() is not None else None


def order_accepted(connection: Connection, database: Database, order: OrderRecord) -> None:
    total = sum(line.unit_price * line.quantity for line in order.lines)
    emit(connection, database, EventType.ORDER_ACCEPTED, order.order_id, order.status.value, {
        "order_id": order.order_id, "channel": order.channel, "channel_order_id": order.channel_order_id,
        "status": order.status.value, "total": {"amount": total, "currency": order.currency},
        "lines": [{"sku": line.sku, "quantity": line.quantity} for line in order.lines],
    }, order_id=order.order_id, once=True)


def order_status_changed(connection: Connection, database: Database, order_id: str, before: str | None,
                         status: OrderStatus, hold_reason: HoldReason | None) -> None:
    if before == status.value:
        return
    data: dict[str, Any] = {"order_id": order_id, "status": status.value, "previous_status": before}
    if status is OrderStatus.HELD:
        data["hold_reason"] = hold_reason.value if hold_reason is not None else None
        emit(connection, database, EventType.ORDER_HELD, order_id, status.value, data, order_id=order_id)
    elif status is OrderStatus.CANCELLED:
        emit(connection, database, EventType.ORDER_CANCELLED, order_id, status.value, data, order_id=order_id)


def shipment_changed(connection: Connection, database: Database, before: str | None,
                     shipment: ShipmentRecord) -> None:
    old = ShipmentState(before) if before is not None else None
    new = shipment.state
    if new is ShipmentState.RELEASED and old is not ShipmentState.RELEASED:
        kind = EventType.SHIPMENT_RELEASED
    elif new in _SHIPPED and old not in _SHIPPED and old not in _DELIVERED:
        kind = EventType.SHIPMENT_SHIPPED
    elif new in _DELIVERED and old not in _DELIVERED:
        kind = EventType.SHIPMENT_DELIVERED
    else:
        return
    emit(connection, database, kind, shipment.shipment_id, new.value, {
        "shipment_id": shipment.shipment_id, "order_id": shipment.order_id, "node_id": shipment.node_id,
        "state": new.value, "carrier": shipment.carrier, "service": shipment.service,
        "tracking_number": shipment.tracking_number, "pickup": shipment.pickup,
        "shipped_at": _iso(shipment.shipped_at), "delivered_at": _iso(shipment.delivered_at),
        "lines": [{"sku": line.sku, "quantity": line.quantity} for line in shipment.lines],
    }, order_id=shipment.order_id)


def return_changed(connection: Connection, database: Database, before: str | None, ret: ReturnRecord) -> None:
    if before == ret.status.value:
        return
    if ret.status is ReturnStatus.RECEIVED:
        emit(connection, database, EventType.RETURN_RECEIVED, ret.rma, ret.status.value, {
            "rma": ret.rma, "order_id": ret.order_id, "status": ret.status.value,
            "return_node_id": ret.return_node_id, "received_at": _iso(ret.received_at),
            "lines": [{"sku": line.sku, "quantity": line.quantity} for line in ret.lines],
        }, order_id=ret.order_id)
    elif ret.status is ReturnStatus.COMPLETED and ret.refund_amount is not None and ret.currency is not None:
        refund_issued(connection, database, f"refund-{ret.rma}", ret.order_id, ret.refund_amount, ret.currency,
                      rma=ret.rma)


def refund_issued(connection: Connection, database: Database, refund_id: str, order_id: str, amount: int,
                  currency: str, *, rma: str | None = None) -> str | None:
    """`refund.issued` for the refund `refund_id` (once per id, however often it is called)."""
    return emit(connection, database, EventType.REFUND_ISSUED, refund_id, "issued", {
        "refund_id": refund_id, "order_id": order_id, "rma": rma,
        "amount": {"amount": amount, "currency": currency},
    }, order_id=order_id, once=True)


def inventory_changes(connection: Connection, database: Database, *, limit: int) -> int:
    """Read the ledger after the stored cursor (at most `limit` movements) and append one `inventory.changed`
    per position that moved, with its position now; advance the cursor. The number of events appended.
    A new reader starts from the newest movement (stock moved before events existed is not reported); while no
    enabled subscription asks for inventory.changed, the cursor only follows the ledger and nothing is written."""
    cursor_row = database.for_update(sa.select(event_cursors.c.position)
                                     .where(event_cursors.c.name == INVENTORY_CURSOR))
    cursor = connection.execute(cursor_row).scalar_one_or_none()
    ledger = inventory_ledger.c
    if cursor is None or not _wanted(connection, EventType.INVENTORY_CHANGED):
        newest = connection.execute(sa.select(sa.func.max(ledger.movement_id))).scalar_one_or_none() or 0
        if newest != cursor:
            _store_cursor(connection, database, newest)
        return 0
    rows = connection.execute(
        sa.select(ledger.movement_id, ledger.node_id, ledger.sku).where(ledger.movement_id > cursor)
        .order_by(ledger.movement_id).limit(limit)).all()
    if not rows:
        return 0
    last: dict[tuple[str, str], int] = {}
    for row in rows:
        last[(row.node_id, row.sku)] = row.movement_id
    positions = inventory_positions.c
    appended = 0
    for (node_id, sku), movement_id in sorted(last.items()):
        position = connection.execute(sa.select(positions.on_hand, positions.reserved, positions.safety_stock)
                                      .where(positions.node_id == node_id, positions.sku == sku)).one()
        appended += emit(connection, database, EventType.INVENTORY_CHANGED, f"{node_id}/{sku}", str(movement_id), {
            "node_id": node_id, "sku": sku, "on_hand": position.on_hand, "reserved": position.reserved,
            "atp": max(0, position.on_hand - position.reserved - position.safety_stock),
        }) is not None
    _store_cursor(connection, database, rows[-1].movement_id)
    return appended


def _wanted(connection: Connection, event_type: EventType) -> bool:
    enabled = connection.execute(sa.select(event_subscriptions.c.event_types)
                                 .where(event_subscriptions.c.enabled.is_(True))).scalars()
    return any(event_type.value in types for types in enabled)


def _store_cursor(connection: Connection, database: Database, movement_id: int) -> None:
    values = {"name": INVENTORY_CURSOR, "position": movement_id, "updated_at": datetime.now(UTC)}
    statement = database.insert(event_cursors).values(values)
    connection.execute(statement.on_conflict_do_update(
        index_elements=["name"], set_={"position": statement.excluded.position,
                                       "updated_at": statement.excluded.updated_at}))


def read(connection: Connection, *, subject: str | None = None, order_id: str | None = None) -> list[Event]:
    """Outbox rows, oldest first, of one subject or one order when asked."""
    query = sa.select(event_outbox).order_by(_OUT.seq)
    if subject is not None:
        query = query.where(_OUT.subject == subject)
    if order_id is not None:
        query = query.where(_OUT.order_id == order_id)
    return [Event.model_validate(dict(row._mapping)) for row in connection.execute(query)]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
