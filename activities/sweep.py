"""Reservation sweep: give expired reservations back to ATP, one batch per call. DB-only: run it local.

Safety rule: an expired reservation is released only when no live order can still ship it. The
order read model says which orders are live: a reservation whose order is unknown to the read model
(reserved outside an order workflow) or whose order is final (completed, cancelled, failed) is
released; one whose order is still received / fulfilling / partially shipped / shipped is *held*
and counted, because that order may still commit it, and committing a released key is a no-op that
would leave the shipped units on hand (an oversell later). See docs/inventory.md.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field
from temporalio import activity

from activities.errors import classified_errors
from store import Store

SWEEP_SOURCE = "sweep"
SWEEP_REASON = "reservation expired"


class SweepBatch(BaseModel):
    """Release up to `limit` reservations that expired at or before `now`.

    `skip_held` is how many expired reservations of live orders the previous batches found: they
    stay at the head of the expiry order, so the batch reads that many more rows to see past them.
    """

    now: datetime
    limit: int = Field(default=500, ge=1, le=5000)
    skip_held: int = Field(default=0, ge=0)


class SweepBatchResult(BaseModel):
    released: int = Field(ge=0, description="reservations given back to ATP by this batch")
    held: int = Field(ge=0, description="expired reservations kept because their order is still live")
    exhausted: bool = Field(description="true when no further expired reservation is left to look at")


class SweepReport(BaseModel):
    """What one sweep run did: the result of ReservationSweepWorkflow."""

    released: int = Field(ge=0)
    held: int = Field(ge=0, description="expired reservations still held by live orders when the run ended")
    batches: int = Field(ge=0)


class ReservationSweepActivities:
    """The sweep's one step, with the store injected.

    Failures: database errors propagate (transient: the caller's retry policy applies); store
    validation errors become a non-retryable ApplicationError("InvalidData").
    """

    def __init__(self, store: Store) -> None:
        self._store = store

    @activity.defn
    def release_expired_batch(self, batch: SweepBatch) -> SweepBatchResult:
        """Release one batch of expired reservations whose order can no longer ship them."""
        with classified_errors():
            wanted = batch.skip_held + batch.limit
            expired = self._store.expired_reservations(batch.now, limit=wanted)
            live_orders: dict[str, bool] = {}
            releasable: list[str] = []
            held = 0
            for reservation in expired:
                if reservation.order_id not in live_orders:
                    live_orders[reservation.order_id] = self._order_is_live(reservation.order_id)
                if live_orders[reservation.order_id]:
                    held += 1
                elif len(releasable) < batch.limit:
                    releasable.append(reservation.key)
            # release() is idempotent and only touches reservations still active, so a key that its
            # order committed or released meanwhile is left alone.
            self._store.release(releasable, source=SWEEP_SOURCE, reason=SWEEP_REASON)
            if releasable:
                activity.logger.info("released %d expired reservations (%d held by live orders)",
                                     len(releasable), held)
            return SweepBatchResult(released=len(releasable), held=held, exhausted=len(expired) < wanted)

    def _order_is_live(self, order_id: str) -> bool:
        record = self._store.get_order(order_id)
        return record is not None and not record.status.is_final
