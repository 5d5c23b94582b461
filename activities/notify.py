"""Customer notifications: an e-mail (SendGrid v3 wire format, text and HTML) and, when the customer asked
for it, an SMS (Twilio), rendered in their language (integrations.notify.render), each sent once.

Once: every message is recorded in the app DB's message ledger (store.message_ledger) by its key and
channel `sending` before the provider is called and `sent` with the provider's id after. A retry or a
rerun finding it `sent` answers that id and sends nothing; finding it `failed` (the provider answered
with an error) sends it again. Finding it left `sending` (the attempt stopped between the call and
its answer) it asks the provider when it can: Twilio's message list by recipient and body. SendGrid
cannot be asked (no lookup by our reference outside its paid, delayed activity feed), so the e-mail
is sent again and counted in the ledger's `uncertain_resends`: the one duplicate left.

At most a few of one kind to one recipient an hour: bogus requests against someone else's order must
not flood that customer. The limit counts a message once, when the ledger first records it.

Later: the ledger keeps each message (the Notification) with its row. A send the provider did not take
is given its next attempt (sourcing.message_retry: a backoff from the first attempt, abandoned after a
day) and the message retry sweep (activities/message_retry.py) sends it again through `deliver`, the same
once-only path. An attempt takes a row it found only if no other attempt took it since (MessageBusy).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from temporalio import activity

from activities.errors import classified_errors
from integrations.http import PermanentProviderError, ProviderError
from integrations.notify.render import Rendered
from integrations.notify.render import render as render_message
from integrations.notify.sendgrid import SendGridClient
from integrations.notify.twilio import TwilioClient
from models.notify import MessageChannel, Notification, notification_key
from sourcing.message_retry import MessageRetryPolicy, next_attempt
from store.ports import MessageLedger, MessageState, NotificationLimits

# The window the per-recipient limit counts in (OMNIROUTE_NOTIFY_PER_RECIPIENT_PER_HOUR messages a kind).
LIMIT_WINDOW = timedelta(hours=1)
# What `notify` answers instead of a message id for a message held back over the limit. A result, not a
# failure: nothing retries it, and the workflow goes on (a failed local activity reaches the workflow as
# a bare ApplicationError, which the callers do not catch).
SUPPRESSED = "suppressed"
# How far before the lost attempt a message Twilio lists may have been created and still be that attempt:
# our clock and Twilio's differ, and Twilio's dates have whole seconds.
LOOKUP_SKEW = timedelta(minutes=5)


class MessageBusy(Exception):
    """Another attempt (the retry sweep, or the workflow's own retry) took the message between our read of
    its row and our claim: it is that attempt's to send. Transient: a retry finds what became of it."""


def render(notification: Notification) -> tuple[str, str]:
    """The e-mail's subject and plain text."""
    rendered = render_message(notification)
    return rendered.subject, rendered.text


def recipient_key(address: str) -> str:
    """What the limit and the ledger count a recipient by, and logs name them by: a SHA-256 of the address
    or phone number (trimmed, lower-cased), never the address."""
    return hashlib.sha256(address.strip().lower().encode()).hexdigest()


def _utc_now() -> datetime:
    return datetime.now(UTC)


class NotifyActivities:
    def __init__(self, mail: SendGridClient, mail_from: str, limits: NotificationLimits, *, ledger: MessageLedger,
                 per_hour: int, sms: TwilioClient | None = None, clock: Callable[[], datetime] = _utc_now,
                 retry: MessageRetryPolicy | None = None) -> None:
        self._mail = mail
        self._from = mail_from
        self._limits = limits
        self._ledger = ledger
        self._per_hour = per_hour
        self._sms = sms
        self._clock = clock
        self._retry = retry or MessageRetryPolicy()

    @activity.defn
    def notify(self, notification: Notification) -> str:
        """Send one customer message by e-mail and, when `notification.sms`, by SMS; returns the e-mail's
        provider message id, or SUPPRESSED without sending when the recipient already had `per_hour`
        messages of this kind within the hour. Each channel is sent once per idempotency key (see the
        module docstring). Raises ProviderRejected (non-retryable) if the mail provider refuses the
        e-mail; an SMS the provider refuses is recorded `rejected` and logged, and does not fail the
        e-mail. Transient failures are retried, and the retry sends only what did not go out; once this
        activity's retries are spent, the message retry sweep sends it later."""
        key = notification.idempotency_key or notification_key(
            activity.info().workflow_id or activity.info().activity_id, notification)
        return self.deliver(notification, key)

    def deliver(self, notification: Notification, key: str) -> str:
        """Send `notification` as the message `key`, each channel once: what `notify` does, and what the
        message retry sweep does with a message kept in the ledger. Raises as `notify` does, and
        MessageBusy when another attempt took a channel's row first."""
        notification = notification.model_copy(update={"idempotency_key": key})
        rendered = render_message(notification)
        language = rendered.language if not rendered.fell_back else f"en<{notification.locale}"[:16]
        if rendered.fell_back:
            activity.logger.warning("no %s templates: %s message %s rendered in English", notification.locale,
                                    notification.kind.value, key)
        with classified_errors():
            email = self._once(MessageChannel.EMAIL, key, notification, recipient_key(notification.to_email),
                               language, send=lambda: self._send_mail(notification, rendered, key),
                               admit=lambda: self._admitted(notification))
        if email != SUPPRESSED and notification.sms and notification.to_phone:
            self._send_sms(key, notification, rendered, language)
        return email

    def _send_sms(self, key: str, notification: Notification, rendered: Rendered, language: str) -> None:
        sms, phone = self._sms, notification.to_phone
        if sms is None or phone is None:
            activity.logger.warning("%s message %s: SMS asked for but no SMS provider is configured",
                                    notification.kind.value, key)
            return

        def find(since: datetime) -> str | None:
            found = sms.find_sent(to=phone, body=rendered.sms, since=since - LOOKUP_SKEW)
            return found.sid if found else None

        try:
            self._once(MessageChannel.SMS, key, notification, recipient_key(phone), language,
                       send=lambda: sms.send_sms(to=phone, body=rendered.sms).sid, find=find)
        except PermanentProviderError as err:
            activity.logger.warning("%s SMS %s refused, the e-mail went: %s", notification.kind.value, key, err)

    def _once(self, channel: MessageChannel, key: str, notification: Notification, recipient: str, language: str, *,
              send: Callable[[], str], find: Callable[[datetime], str | None] | None = None,
              admit: Callable[[], bool] | None = None) -> str:
        """Send on `channel` unless the ledger says it went; record what happened either way."""
        now = self._clock()
        record = self._ledger.begin_message(key, channel.value, kind=notification.kind.value, recipient=recipient,
                                            language=language, now=now, notification=notification.model_dump_json(),
                                            lease_until=now + self._retry.lease)
        first_tried = now if record is None else record.created_at
        if record is None:
            if admit is not None and not admit():
                self._ledger.finish_message(key, channel.value, MessageState.SUPPRESSED, now=self._clock())
                return SUPPRESSED
        elif record.state is MessageState.SENT and record.provider_message_id:
            activity.logger.info("%s %s already sent as %s", channel.value, key, record.provider_message_id)
            return record.provider_message_id
        elif record.state is MessageState.SUPPRESSED:
            return SUPPRESSED
        else:
            uncertain = False
            if record.state is MessageState.SENDING:
                found = find(record.updated_at) if find is not None else None
                if found is not None:
                    activity.logger.info("%s %s was taken before the last attempt stopped: %s", channel.value, key,
                                         found)
                    self._ledger.finish_message(key, channel.value, MessageState.SENT, now=self._clock(),
                                                provider_message_id=found)
                    return found
                if find is None:
                    activity.logger.warning("%s %s: the last attempt stopped unanswered and the provider cannot be "
                                            "asked; sending again, possibly twice", channel.value, key)
                uncertain = find is None
            now = self._clock()
            if not self._ledger.resend_message(key, channel.value, uncertain=uncertain, now=now,
                                               expected_attempts=record.attempts, lease_until=now + self._retry.lease):
                raise MessageBusy(f"{channel.value} {key}: another attempt took it first")
        try:
            message_id = send()
        except ProviderError as err:
            self._failed(key, channel, err, first_tried)
            raise
        self._ledger.finish_message(key, channel.value, MessageState.SENT, now=self._clock(),
                                    provider_message_id=message_id)
        return message_id

    def _failed(self, key: str, channel: MessageChannel, err: ProviderError, first_tried: datetime) -> None:
        """Record a send the provider did not take, with when to try it again (or abandon it)."""
        now = self._clock()
        again = next_attempt(first_tried, now, self._retry)
        if isinstance(err, PermanentProviderError):
            self._ledger.finish_message(key, channel.value, MessageState.REJECTED, now=now)
        elif again is None:
            activity.logger.warning("%s %s abandoned: tried since %s", channel.value, key, first_tried.isoformat())
            self._ledger.finish_message(key, channel.value, MessageState.ABANDONED, now=now)
        elif err.status is None:  # no answer: the provider may have taken it, so it stays `sending`
            self._ledger.postpone_message(key, channel.value, next_attempt_at=again)
        else:  # the provider answered: nothing went out
            self._ledger.finish_message(key, channel.value, MessageState.FAILED, now=now, next_attempt_at=again)

    def _send_mail(self, notification: Notification, rendered: Rendered, key: str) -> str:
        return self._mail.send(
            to_email=notification.to_email, to_name=notification.to_name, from_email=self._from,
            subject=rendered.subject, text=rendered.text, html=rendered.html, categories=[notification.kind.value],
            custom_args={"reference": notification.reference, "kind": notification.kind.value, "message_key": key},
        )

    def _admitted(self, notification: Notification) -> bool:
        recipient, kind = recipient_key(notification.to_email), notification.kind.value
        if self._limits.admit_notification(recipient, kind, now=self._clock(), window=LIMIT_WINDOW,
                                           limit=self._per_hour):
            return True
        activity.logger.warning("%s message about %s to recipient %s suppressed: over %d within the hour",
                                kind, notification.reference, recipient[:12], self._per_hour)
        return False
