"""Subscriptions to events, their deliveries and each delivery's attempts (the log an operator reads).

The dispatcher's `fan_out` takes undispatched outbox rows and, in the same transaction, records one
delivery per enabled subscription that asked for the row's type and stamps the row dispatched: an event
is fanned out once, whatever crashes around it. Deliveries start `pending`; `pending_deliveries` and
`mark_sending` let the dispatcher start one workflow for each. A replay is a new pending delivery of the
same event (same webhook-id) pointing at the one it repeats. The secret is stored sealed: this module
never sees it in clear (the gateway seals it, the delivery activity opens it).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from models.events import (
    Delivery,
    DeliveryAttempt,
    DeliveryPage,
    DeliveryState,
    Event,
    EventType,
    Subscription,
    delivery_id,
)
from store.engine import Database
from store.tables import event_deliveries, event_delivery_attempts, event_outbox, event_subscriptions

_SUB = event_subscriptions.c
_DLV = event_deliveries.c
_ATT = event_delivery_attempts.c
_OUT = event_outbox.c


class SubscriptionRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    # subscriptions

    def create(self, subscription_id: str, url: str, event_types: list[EventType], description: str | None,
               secret_sealed: str) -> Subscription:
        now = datetime.now(UTC)
        with self._db.write() as connection:
            connection.execute(sa.insert(event_subscriptions).values(
                subscription_id=subscription_id, url=url, event_types=[t.value for t in event_types],
                description=description, enabled=True, secret_sealed=secret_sealed, created_at=now, updated_at=now))
        found = self.get(subscription_id)
        assert found is not None
        return found

    def get(self, subscription_id: str) -> Subscription | None:
        with self._db.read() as connection:
            row = connection.execute(sa.select(event_subscriptions)
                                     .where(_SUB.subscription_id == subscription_id)).one_or_none()
        return None if row is None else _subscription(row)

    def sealed_secret(self, subscription_id: str) -> str | None:
        with self._db.read() as connection:
            found: str | None = connection.execute(sa.select(_SUB.secret_sealed)
                                                   .where(_SUB.subscription_id == subscription_id)).scalar()
        return found

    def list_all(self) -> list[Subscription]:
        with self._db.read() as connection:
            rows = connection.execute(sa.select(event_subscriptions).order_by(_SUB.created_at, _SUB.subscription_id))
            return [_subscription(row) for row in rows]

    def update(self, subscription_id: str, changes: dict[str, Any]) -> Subscription | None:
        """Apply `changes` (url, event_types, description, enabled); None for an unknown id. Enabling again
        clears the reason the system disabled it for."""
        values = dict(changes)
        if "event_types" in values:
            values["event_types"] = [EventType(t).value for t in values["event_types"]]
        if values.get("enabled") is not None:
            values["disabled_reason"] = None
        values["updated_at"] = datetime.now(UTC)
        with self._db.write() as connection:
            if connection.execute(sa.update(event_subscriptions).where(_SUB.subscription_id == subscription_id)
                                  .values(values)).rowcount == 0:
                return None
        return self.get(subscription_id)

    def disable(self, subscription_id: str, reason: str) -> None:
        with self._db.write() as connection:
            connection.execute(sa.update(event_subscriptions).where(_SUB.subscription_id == subscription_id)
                               .values(enabled=False, disabled_reason=reason[:200], updated_at=datetime.now(UTC)))

    def delete(self, subscription_id: str) -> bool:
        """Delete the subscription and its log; deliveries under way stop at their next attempt."""
        with self._db.write() as connection:
            ids = sa.select(_DLV.delivery_id).where(_DLV.subscription_id == subscription_id).scalar_subquery()
            connection.execute(sa.delete(event_delivery_attempts).where(_ATT.delivery_id.in_(ids)))
            connection.execute(sa.delete(event_deliveries).where(_DLV.subscription_id == subscription_id))
            return connection.execute(sa.delete(event_subscriptions)
                                      .where(_SUB.subscription_id == subscription_id)).rowcount > 0

    # the dispatcher

    def fan_out(self, *, limit: int) -> tuple[int, int]:
        """Record the deliveries of up to `limit` undispatched events and stamp them dispatched, in one
        transaction: (events dispatched, deliveries recorded)."""
        now = datetime.now(UTC)
        with self._db.write() as connection:
            rows = connection.execute(self._db.for_update(
                sa.select(_OUT.seq, _OUT.event_id, _OUT.type).where(_OUT.dispatched_at.is_(None))
                .order_by(_OUT.seq).limit(limit))).all()
            if not rows:
                return 0, 0
            subscriptions = connection.execute(
                sa.select(_SUB.subscription_id, _SUB.event_types).where(_SUB.enabled.is_(True))
                .order_by(_SUB.subscription_id)).all()
            deliveries = [
                {"delivery_id": delivery_id(sub.subscription_id, row.event_id), "subscription_id": sub.subscription_id,
                 "event_id": row.event_id, "event_type": row.type, "state": DeliveryState.PENDING.value,
                 "created_at": now, "updated_at": now}
                for row in rows for sub in subscriptions if row.type in sub.event_types
            ]
            if deliveries:
                connection.execute(self._db.insert(event_deliveries).values(deliveries)
                                   .on_conflict_do_nothing(index_elements=["delivery_id"]))
            connection.execute(sa.update(event_outbox).where(_OUT.seq.in_([row.seq for row in rows]))
                               .values(dispatched_at=now))
        return len(rows), len(deliveries)

    def pending_deliveries(self, *, limit: int) -> list[str]:
        """Deliveries whose workflow has not been started, oldest first."""
        with self._db.read() as connection:
            return list(connection.execute(sa.select(_DLV.delivery_id).where(_DLV.state == DeliveryState.PENDING.value)
                                           .order_by(_DLV.seq).limit(limit)).scalars())

    def set_state(self, delivery: str, state: DeliveryState, *, only_from: DeliveryState | None = None) -> None:
        statement = sa.update(event_deliveries).where(_DLV.delivery_id == delivery)
        if only_from is not None:
            statement = statement.where(_DLV.state == only_from.value)
        with self._db.write() as connection:
            connection.execute(statement.values(state=state.value, updated_at=datetime.now(UTC)))

    # the delivery activity

    def delivery_context(self, delivery: str) -> tuple[Delivery, Subscription, Event] | None:
        """The delivery, its subscription and its event; None when any of them is gone."""
        with self._db.read() as connection:
            row = connection.execute(sa.select(event_deliveries).where(_DLV.delivery_id == delivery)).one_or_none()
            if row is None:
                return None
            sub = connection.execute(sa.select(event_subscriptions)
                                     .where(_SUB.subscription_id == row.subscription_id)).one_or_none()
            event = connection.execute(sa.select(event_outbox).where(_OUT.event_id == row.event_id)).one_or_none()
        if sub is None or event is None:
            return None
        return _delivery(row, []), _subscription(sub), Event.model_validate(dict(event._mapping))

    def record_attempt(self, delivery: str, attempt: DeliveryAttempt) -> None:
        """Keep one attempt (the same attempt recorded again, by a retried activity, replaces it)."""
        values = attempt.model_dump() | {"delivery_id": delivery,
                                         "error": attempt.error[:500] if attempt.error else None}
        with self._db.write() as connection:
            statement = self._db.insert(event_delivery_attempts).values(values)
            connection.execute(statement.on_conflict_do_update(
                index_elements=["delivery_id", "attempt"],
                set_={name: statement.excluded[name] for name in values if name not in ("delivery_id", "attempt")}))
            connection.execute(sa.update(event_deliveries).where(_DLV.delivery_id == delivery)
                               .values(updated_at=attempt.attempted_at))

    # the operator's log

    def deliveries(self, subscription_id: str, *, before: int | None, limit: int) -> DeliveryPage:
        query = (sa.select(event_deliveries).where(_DLV.subscription_id == subscription_id)
                 .order_by(_DLV.seq.desc()).limit(limit + 1))
        if before is not None:
            query = query.where(_DLV.seq < before)
        with self._db.read() as connection:
            rows = connection.execute(query).all()
            page = rows[:limit]
            attempts: dict[str, list[DeliveryAttempt]] = {row.delivery_id: [] for row in page}
            if page:
                for att in connection.execute(sa.select(event_delivery_attempts)
                                              .where(_ATT.delivery_id.in_(list(attempts)))
                                              .order_by(_ATT.delivery_id, _ATT.attempt)):
                    attempts[att.delivery_id].append(DeliveryAttempt.model_validate(dict(att._mapping)))
        return DeliveryPage(deliveries=[_delivery(row, attempts[row.delivery_id]) for row in page],
                            next_before=page[-1].seq if len(rows) > limit else None)

    def delivery(self, subscription_id: str, delivery: str) -> Delivery | None:
        with self._db.read() as connection:
            row = connection.execute(sa.select(event_deliveries).where(
                _DLV.delivery_id == delivery, _DLV.subscription_id == subscription_id)).one_or_none()
            if row is None:
                return None
            attempts = [DeliveryAttempt.model_validate(dict(att._mapping)) for att in connection.execute(
                sa.select(event_delivery_attempts).where(_ATT.delivery_id == delivery).order_by(_ATT.attempt))]
        return _delivery(row, attempts)

    def replay(self, subscription_id: str, delivery: str, new_delivery_id: str) -> Delivery | None:
        """A new pending delivery of the same event to the same subscription; None if `delivery` is not one
        of the subscription's."""
        original = self.delivery(subscription_id, delivery)
        if original is None:
            return None
        now = datetime.now(UTC)
        with self._db.write() as connection:
            connection.execute(sa.insert(event_deliveries).values(
                delivery_id=new_delivery_id, subscription_id=subscription_id, event_id=original.event_id,
                event_type=original.event_type.value, state=DeliveryState.PENDING.value, replay_of=delivery,
                created_at=now, updated_at=now))
        return self.delivery(subscription_id, new_delivery_id)


def _subscription(row: sa.Row[Any]) -> Subscription:
    return Subscription.model_validate({name: row._mapping[name] for name in Subscription.model_fields})


def _delivery(row: sa.Row[Any], attempts: list[DeliveryAttempt]) -> Delivery:
    values = {name: row._mapping[name] for name in Delivery.model_fields if name != "attempts"}
    return Delivery.model_validate(values | {"attempts": attempts})
