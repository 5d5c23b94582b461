"""Webhook deliveries already handled: a sender's id for each delivery (Shopify's X-Shopify-Webhook-Id),
kept until it expires, so that a delivery the sender retries is acknowledged and not applied twice.

A delivery is remembered once it has been handled (its answer was a 2xx), not when it arrives: a
delivery that failed (Temporal out of reach) is not remembered, so its retry is handled in full. Two
copies of one delivery arriving at the same moment may both be handled; what they start is idempotent
on its own (an order's workflow id, a cancel of what is already cancelled). Expired ids are deleted by
the writes that remember new ones (each finds only those expired since the last, by the expiry index).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from store.engine import Database
from store.tables import UTCDateTime, webhook_deliveries

_T = webhook_deliveries


class WebhookDeliveryRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    def handled(self, source: str, delivery_id: str, *, now: datetime) -> bool:
        """Whether `source`'s delivery `delivery_id` was handled and has not expired by `now`."""
        with self._db.read() as connection:
            expires_at = connection.execute(
                sa.select(_T.c.expires_at).where(_T.c.source == source, _T.c.delivery_id == delivery_id)
            ).scalar_one_or_none()
        return expires_at is not None and expires_at > now

    def remember(self, source: str, delivery_id: str, *, now: datetime, keep: timedelta) -> None:
        """Remember the delivery as handled until `now + keep` (again: the later expiry), and delete the
        expired ones."""
        expires = now + keep
        with self._db.write() as connection:
            insert = self._db.insert(_T).values(source=source, delivery_id=delivery_id, handled_at=now,
                                                expires_at=expires)
            connection.execute(insert.on_conflict_do_update(
                index_elements=[_T.c.source, _T.c.delivery_id],
                set_={"handled_at": insert.excluded.handled_at, "expires_at": insert.excluded.expires_at}))
            connection.execute(sa.delete(_T).where(_T.c.expires_at <= sa.bindparam("now", now, type_=UTCDateTime())))
