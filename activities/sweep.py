"""Reservation sweep: give expired reservations back to ATP, one batch per call. DB-only: run it local.

Safety rule: an expired reservation is released only when no live order can still ship it. The
order read model says which orders are live: a reservation whose order is unknown to the read model
(reserved outside an order workflow) or whose order is final (completed, cancelled, failed) is
released; one whose order is still received / fulfilling / partially shipped / shipped is *held*
and counted, because that order may still commit it, and committing a released key is a no-op that
would leave the shipped units on hand (an oversell later). See docs/inventory.md.
"""

from __future__ import annotations

from temporalio import activity

from activities.errors import classified_errors
from models.schedules import SweepBatch, SweepBatchResult
from store.ports import OrderRecords, ReservationReader, StockLedger

SWEEP_SOURCE = "sweep"
SWEEP_REASON = "reservation expired"


class ReservationSweepActivities:
    """The sweep's one step, with the ledger and the order read model injected.

    Failures: database errors propagate (transient: the caller's retry policy applies); store
    validation errors become a non-retryable ApplicationError("InvalidData").
    """

    def __init__(self, ledger: StockLedger, reservations: ReservationReader, orders: OrderRecords) -> None:
        self._ledger = ledger
        self._reservations = reservations
        self._orders = orders

    @activity.defn
    def release_expired_batch(self, batch: SweepBatch) -> SweepBatchResult:
        """Release one batch of expired reservations whose order can no longer ship them."""
        with classified_errors():
            wanted = batch.skip_held + batch.limit
            expired = self._reservations.expired_reservations(batch.now, limit=wanted)
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
            self._ledger.release(releasable, source=SWEEP_SOURCE, reason=SWEEP_REASON)
            if releasable:
                activity.logger.info("released %d expired reservations (%d held by live orders)",
                                     len(releasable), held)
            return SweepBatchResult(released=len(releasable), held=held, exhausted=len(expired) < wanted)

    def _order_is_live(self, order_id: str) -> bool:
        record = self._orders.get_order(order_id)
        return record is not None and not record.status.is_final
