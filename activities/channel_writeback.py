"""Channel write-back activities: read what is still to write back to a Shopify channel, and write one.

Writing reads the order back from Shopify first, so a fulfillment or cancel whose answer was lost (or
that Shopify already has) is found, not written twice; then writes it and records the outcome in the
`channel_writebacks` ledger. A refusal (no such order, lines Shopify has no longer open, a userError)
is recorded as refused and not retried; an outage or the throttle raises, and Temporal retries; a
refusal of the app itself (a bad token, a locked shop) raises ProviderRejected and records nothing, so
the write is tried again once the shop lets the app in.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.errors import PROVIDER_REJECTED, classified_errors
from integrations.channels.shopify_graphql import (
    ShopifyGraphQLClient,
    ShopifyOrderState,
    TrackingInfo,
    lines_for_fulfillment,
    numeric_id,
)
from integrations.http import PermanentProviderError, RateLimitedError
from models.channel_writeback import (
    PendingWritebacks,
    WritebackDone,
    WritebackKind,
    WritebackOutcome,
    WritebackTask,
)
from store.ports import ChannelWritebacks

RATE_LIMITED = "ChannelRateLimited"
# Refusals of the app rather than of the write (bad token, unpaid or locked shop): not recorded.
_NOT_THE_TASKS_FAULT = (401, 402, 403, 423)
ShopFor = Callable[[str], ShopifyGraphQLClient]


class ChannelWritebackActivities:
    """`pending_writebacks` reads the DB only (run it local); `write_back` calls the shop (run it regular).
    `shop_for(channel)` is the channel's GraphQL client (its shop URL and token stay in the worker)."""

    def __init__(self, ledger: ChannelWritebacks, shop_for: ShopFor, *, notify_customer: Callable[[str], bool]
                 = lambda channel: False) -> None:
        self._ledger = ledger
        self._shop_for = shop_for
        self._notify_customer = notify_customer

    @activity.defn
    def pending_writebacks(self, request: PendingWritebacks) -> list[WritebackTask]:
        with classified_errors():
            return self._ledger.pending_writebacks(request.channel, limit=request.limit)

    @activity.defn
    def write_back(self, task: WritebackTask) -> WritebackDone:
        """Write one task to the channel's shop (once), record it in the ledger, and say what became of it.

        Raises a retryable ApplicationError ChannelRateLimited (its next retry waits what the cost
        bucket needs) when the shop stays throttled, and the provider's transient error in an outage."""
        try:
            done = self._write(task)
        except RateLimitedError as err:
            raise ApplicationError(f"shop throttled: {err}", type=RATE_LIMITED,
                                   next_retry_delay=None if err.retry_after is None
                                   else timedelta(seconds=max(err.retry_after, 0.1))) from err
        except PermanentProviderError as err:
            if err.status in _NOT_THE_TASKS_FAULT:  # a revoked token, a frozen shop: keep the task for later
                raise ApplicationError(f"the shop refused the app: {err}", type=PROVIDER_REJECTED,
                                       non_retryable=True) from err
            done = WritebackDone(kind=task.kind, subject=task.subject, outcome=WritebackOutcome.REFUSED,
                                 detail=f"{err}"[:2000])
            activity.logger.warning("%s of %s refused by the shop: %s", task.kind.value, task.subject, err)
        with classified_errors():
            self._ledger.record_writeback(task.channel, task.order_id, done, now=datetime.now(UTC))
        return done

    def _write(self, task: WritebackTask) -> WritebackDone:
        if not task.channel_order_id.isdigit():
            raise PermanentProviderError("shopify", f"channel_order_id {task.channel_order_id!r} is not a Shopify "
                                         "order id", field="channel_order_id")
        shop = self._shop_for(task.channel)
        state = shop.order_state(int(task.channel_order_id))
        if state is None:
            raise PermanentProviderError("shopify", f"the shop has no order {task.channel_order_id}",
                                         field="channel_order_id", code="NOT_FOUND")
        if task.kind == WritebackKind.CANCEL:
            return self._cancel(shop, task, state)
        return self._fulfil(shop, task, state)

    def _fulfil(self, shop: ShopifyGraphQLClient, task: WritebackTask, state: ShopifyOrderState) -> WritebackDone:
        if task.tracking_number and (found := state.fulfillment_with_tracking(task.tracking_number)):
            return self._done(task, WritebackOutcome.FOUND, found.id, f"{state.name} already has tracking "
                              f"{task.tracking_number}")
        if state.cancelled_at is not None:
            raise PermanentProviderError("shopify", f"{state.name} was cancelled in Shopify", code="CANCELLED")
        lines = lines_for_fulfillment(state, dict(task.units))
        tracking = TrackingInfo(company=task.carrier, number=task.tracking_number)
        created = shop.create_fulfillment(lines, tracking, notify_customer=self._notify_customer(task.channel))
        return self._done(task, WritebackOutcome.WRITTEN, created.id,
                          f"{state.name}: {sum(task.units.values())} units, {task.carrier} {task.tracking_number}")

    def _cancel(self, shop: ShopifyGraphQLClient, task: WritebackTask, state: ShopifyOrderState) -> WritebackDone:
        if state.cancelled_at is not None:
            return self._done(task, WritebackOutcome.FOUND, None, f"{state.name} cancelled at {state.cancelled_at}")
        job = shop.cancel_order(numeric_id(state.id), reason="OTHER",
                                staff_note=f"cancelled in Omniroute ({task.order_id})",
                                notify_customer=self._notify_customer(task.channel))
        return self._done(task, WritebackOutcome.WRITTEN, job.id, f"{state.name} cancelled")

    @staticmethod
    def _done(task: WritebackTask, outcome: WritebackOutcome, external_id: str | None, detail: str) -> WritebackDone:
        return WritebackDone(kind=task.kind, subject=task.subject, outcome=outcome, external_id=external_id,
                             detail=detail)
