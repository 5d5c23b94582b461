"""The message retry sweep's step: send again, through the notify activity's once-only path, the customer
messages whose send failed and whose next attempt has come, and put what became of each on its order's
timeline.

A message is its ledger key: its e-mail and, when the customer asked, its SMS. A row that is due (failed,
or left `sending` by an attempt that died) brings its message back from the ledger, and
`NotifyActivities.deliver` sends what did not go: a channel the ledger knows went is never sent again.
What the provider does not take is given its next attempt there (sourcing.message_retry) or abandoned.
Each channel that this step sees become sent, abandoned or refused gets a `message.event` audit entry on
the order the message is about ("shipped e-mail sent after 7 attempts").
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from pydantic import ValidationError
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.notify import MessageBusy, NotifyActivities
from integrations.http import ProviderError
from models.audit import SYSTEM, Actor
from models.message_retry import MessageRetryBatch, MessageRetryResult
from models.notify import MessageChannel, Notification
from sourcing.message_retry import MessageRetryPolicy, attempts_summary, next_attempt
from store.ports import MessageLedger, MessageRecord, MessageRetries, MessageState

# What this step puts on the order's timeline when a channel's row comes to it.
_REPORTED = (MessageState.SENT, MessageState.ABANDONED, MessageState.REJECTED)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class MessageRetryActivities:
    """The sweep's one step, with the notify activities (their providers and ledger), the ledger, and the
    retries port injected. Failures: database errors propagate (transient); provider errors are each
    message's, recorded in the ledger, never the step's."""

    def __init__(self, notify: NotifyActivities, ledger: MessageLedger, retries: MessageRetries, *,
                 policy: MessageRetryPolicy, clock: Callable[[], datetime] = _utc_now) -> None:
        self._notify = notify
        self._ledger = ledger
        self._retries = retries
        self._policy = policy
        self._clock = clock

    @activity.defn
    def retry_due_messages(self, batch: MessageRetryBatch) -> MessageRetryResult:
        """Try again up to `batch.limit` rows due at `batch.now`, a message (key) at a time."""
        rows = self._retries.messages_due(batch.now, limit=batch.limit)
        by_key: dict[str, list[MessageRecord]] = {}
        for row in rows:
            by_key.setdefault(row.key, []).append(row)
        counts = dict.fromkeys(("sent", "failed", "abandoned", "refused", "busy"), 0)
        for key, due in by_key.items():
            activity.heartbeat(key)
            counts[self._retry(key, due)] += 1
        return MessageRetryResult(tried=len(by_key), exhausted=len(rows) < batch.limit, **counts)

    def _retry(self, key: str, due: list[MessageRecord]) -> str:
        before = self._rows(key)
        try:
            notification = Notification.model_validate_json(due[0].notification or "")
        except ValidationError as err:  # logged by field only: the message holds the customer's address
            fields = sorted({".".join(map(str, error["loc"])) or "the message" for error in err.errors()})
            activity.logger.error("message %s kept in a shape this code cannot read (%s), abandoned", key,
                                  ", ".join(fields))
            self._give_up(due)
            self._report(key, before, reference=None)
            return "abandoned"
        outcome = "sent"
        try:
            self._notify.deliver(notification, key)
        except MessageBusy as busy:
            activity.logger.info("%s", busy)
            return "busy"
        except ApplicationError as err:  # refused (ProviderRejected, recorded `rejected`) or InvalidData: final
            activity.logger.warning("message %s refused: %s", key, err)
            outcome = "refused"
        except ProviderError as err:
            activity.logger.info("message %s failed again: %s", key, err)
            outcome = "failed"
        except Exception:  # noqa: BLE001 - one broken message must not hold back the others
            activity.logger.exception("message %s could not be sent; tried again later", key)
            outcome = "failed"
        self._defer(due)
        after = self._report(key, before, reference=notification.reference)
        if outcome == "failed" and any(row.state is MessageState.ABANDONED for row in after.values()):
            return "abandoned"
        return outcome

    def _rows(self, key: str) -> dict[str, MessageRecord]:
        rows = {channel.value: self._ledger.message_record(key, channel.value) for channel in MessageChannel}
        return {channel: row for channel, row in rows.items() if row is not None}

    def _report(self, key: str, before: dict[str, MessageRecord], *, reference: str | None
                ) -> dict[str, MessageRecord]:
        """Put each channel that came to be sent, abandoned or refused on its order's timeline."""
        after = self._rows(key)
        info = activity.info()
        actor = Actor.workflow(info.workflow_id) if info.workflow_id else SYSTEM
        for channel, row in after.items():
            earlier = before.get(channel)
            if row.state not in _REPORTED or (earlier is not None and earlier.state is row.state):
                continue
            about = reference or _reference_of(row)
            if about is None:
                continue
            self._retries.record_message_outcome(key, reference=about, actor=actor, detail={
                "event": attempts_summary(row.state.value, row.attempts, self._policy), "channel": channel,
                "message_kind": row.kind, "message_key": key, "state": row.state.value, "attempts": row.attempts})
        return after

    def _defer(self, due: list[MessageRecord]) -> None:
        """Rows the attempt did not take (a template error; an SMS row when SMS is no longer configured): their
        next attempt, or abandoned, so that no row stays due. A row the attempt took was recorded by it."""
        now = self._clock()
        for row in due:
            current = self._ledger.message_record(row.key, row.channel)
            if current is None or current.attempts != row.attempts:
                continue
            again = next_attempt(row.created_at, now, self._policy)
            if again is None:
                self._ledger.finish_message(row.key, row.channel, MessageState.ABANDONED, now=now)
            elif row.state is MessageState.SENDING:
                self._ledger.postpone_message(row.key, row.channel, next_attempt_at=again)
            else:
                self._ledger.finish_message(row.key, row.channel, MessageState.FAILED, now=now, next_attempt_at=again)

    def _give_up(self, due: list[MessageRecord]) -> None:
        now = self._clock()
        for row in due:
            self._ledger.finish_message(row.key, row.channel, MessageState.ABANDONED, now=now)


def _reference_of(row: MessageRecord) -> str | None:
    try:
        return Notification.model_validate_json(row.notification or "").reference
    except ValidationError:
        return None
