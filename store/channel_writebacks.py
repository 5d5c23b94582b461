"""The write-back ledger: what has been written back to a sales channel, and what is still to write.

What is to write is read from the read model: a channel's shipments that have left the building
(shipped, in transit, out for delivery, delivered; not store pickups) and its orders cancelled as a
whole, less those the `channel_writebacks` ledger already holds. A row is added once Shopify has the
fulfillment or the cancel (or refused it for good), so the driver writes each once; a write whose
answer was lost is found by reading the order back before writing again (activities/channel_writeback.py).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from models.channel_writeback import WritebackDone, WritebackKind, WritebackRecord, WritebackTask
from models.order import OrderStatus
from models.shipment import ShipmentState
from store.engine import Database
from store.tables import channel_writebacks, orders, shipments

_W = channel_writebacks
LEFT_THE_BUILDING = (ShipmentState.SHIPPED, ShipmentState.IN_TRANSIT, ShipmentState.OUT_FOR_DELIVERY,
                     ShipmentState.DELIVERED)


class ChannelWritebackRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    def pending(self, channel: str, *, limit: int) -> list[WritebackTask]:
        """Up to `limit` things to write for `channel`: cancels first (they are few and stop fulfilments
        being asked for), then shipments in the order they shipped."""
        cancels = (
            sa.select(orders.c.order_id, orders.c.channel_order_id)
            .select_from(orders.outerjoin(_W, sa.and_(_W.c.channel == orders.c.channel,
                                                      _W.c.kind == WritebackKind.CANCEL.value,
                                                      _W.c.subject == orders.c.order_id)))
            .where(orders.c.channel == channel, orders.c.status == OrderStatus.CANCELLED.value,
                   _W.c.subject.is_(None))
            .order_by(orders.c.updated_at, orders.c.order_id).limit(limit)
        )
        shipped = (
            sa.select(shipments, orders.c.channel_order_id)
            .select_from(shipments.join(orders, orders.c.order_id == shipments.c.order_id)
                         .outerjoin(_W, sa.and_(_W.c.channel == orders.c.channel,
                                                _W.c.kind == WritebackKind.FULFILLMENT.value,
                                                _W.c.subject == shipments.c.shipment_id)))
            .where(orders.c.channel == channel, shipments.c.state.in_([s.value for s in LEFT_THE_BUILDING]),
                   shipments.c.pickup.is_(False), _W.c.subject.is_(None))
            .order_by(shipments.c.shipped_at, shipments.c.shipment_id).limit(limit)
        )
        with self._db.read() as connection:
            tasks = [WritebackTask(kind=WritebackKind.CANCEL, channel=channel, order_id=row.order_id,
                                   channel_order_id=row.channel_order_id) for row in connection.execute(cancels)]
            for row in connection.execute(shipped):
                units: dict[str, int] = {}
                for line in row.lines:
                    units[line["sku"]] = units.get(line["sku"], 0) + int(line["quantity"])
                tasks.append(WritebackTask(
                    kind=WritebackKind.FULFILLMENT, channel=channel, order_id=row.order_id,
                    channel_order_id=row.channel_order_id, shipment_id=row.shipment_id, carrier=row.carrier,
                    tracking_number=row.tracking_number, units=units))
        return tasks[:limit]

    def record(self, channel: str, order_id: str, done: WritebackDone, *, now: datetime) -> None:
        """Remember a write's outcome; a second record of the same write keeps the first."""
        statement = self._db.insert(_W).values(
            channel=channel, kind=done.kind.value, subject=done.subject, order_id=order_id,
            outcome=done.outcome.value, external_id=done.external_id, detail=done.detail[:2000], written_at=now,
        ).on_conflict_do_nothing(index_elements=[_W.c.channel, _W.c.kind, _W.c.subject])
        with self._db.write() as connection:
            connection.execute(statement)

    def written(self, *, channel: str | None = None, order_id: str | None = None) -> list[WritebackRecord]:
        """What the ledger holds, for a channel or an order, oldest first."""
        query = sa.select(_W).order_by(_W.c.written_at, _W.c.kind, _W.c.subject)
        if channel is not None:
            query = query.where(_W.c.channel == channel)
        if order_id is not None:
            query = query.where(_W.c.order_id == order_id)
        with self._db.read() as connection:
            return [WritebackRecord.model_validate(dict(row._mapping)) for row in connection.execute(query)]
