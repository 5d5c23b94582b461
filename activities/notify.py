"""Customer notifications through the mail provider (SendGrid v3 wire format), at most a few of one kind
to one recipient an hour: bogus requests against someone else's order must not flood that customer."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from temporalio import activity

from activities.errors import classified_errors
from integrations.notify.sendgrid import SendGridClient
from models.notify import Notification, NotificationKind
from store.ports import NotificationLimits

SUBJECTS = {
    NotificationKind.ORDER_CONFIRMED: "We have your order {reference}",
    NotificationKind.LINES_CANCELLED: "Part of your order {reference} was cancelled",
    NotificationKind.BACKORDERED: "Part of your order {reference} is on backorder",
    NotificationKind.SHIPPED: "Your order {reference} has shipped",
    NotificationKind.DELIVERED: "Your order {reference} was delivered",
    NotificationKind.ORDER_CANCELLED: "Your order {reference} was cancelled",
    NotificationKind.ORDER_FAILED: "We could not complete your order {reference}",
    NotificationKind.RETURN_LABEL: "Your return {reference}: label inside",
    NotificationKind.RETURN_REJECTED: "We could not accept return {reference}",
    NotificationKind.REFUND_ISSUED: "Your refund for return {reference}",
    NotificationKind.DELIVERY_EXCEPTION: "A problem with the delivery of your order {reference}",
    NotificationKind.CANCEL_REFUSED: "Your order {reference} had shipped before your cancel reached us",
    NotificationKind.READY_FOR_PICKUP: "Your order {reference} is ready for pickup: show your pickup code",
    NotificationKind.PICKUP_EXPIRED: "Your pickup order {reference} was not collected and is cancelled",
    NotificationKind.CURBSIDE_ARRIVAL: "We know you are here: your order {reference} is on its way to your car",
    NotificationKind.PICKUP_LOCKED: "Your pickup of order {reference} is locked: please contact the store",
    NotificationKind.PICKUP_SHIPPED_INSTEAD: "Your order {reference} will be shipped to you instead of picked up",
}

# The window the per-recipient limit counts in (OMNIROUTE_NOTIFY_PER_RECIPIENT_PER_HOUR messages a kind).
LIMIT_WINDOW = timedelta(hours=1)
# What `notify` answers instead of a message id for a message held back over the limit. A result, not a
# failure: nothing retries it, and the workflow goes on (a failed local activity reaches the workflow as
# a bare ApplicationError, which the callers do not catch).
SUPPRESSED = "suppressed"


def render(notification: Notification) -> tuple[str, str]:
    subject = SUBJECTS[notification.kind].format(reference=notification.reference)
    facts = "\n".join(f"{key.replace('_', ' ')}: {value}" for key, value in sorted(notification.facts.items()))
    body = f"Hello {notification.to_name},\n\n{subject}.\n\n{facts}\n".rstrip() + "\n"
    return subject, body


def recipient_key(email: str) -> str:
    """What the limit counts a recipient by, and logs name them by: a SHA-256 of the address (trimmed,
    lower-cased), never the address."""
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def _utc_now() -> datetime:
    return datetime.now(UTC)


class NotifyActivities:
    def __init__(self, mail: SendGridClient, mail_from: str, limits: NotificationLimits, *, per_hour: int,
                 clock: Callable[[], datetime] = _utc_now) -> None:
        self._mail = mail
        self._from = mail_from
        self._limits = limits
        self._per_hour = per_hour
        self._clock = clock

    @activity.defn
    def notify(self, notification: Notification) -> str:
        """Send one customer message; returns the provider's message id, or SUPPRESSED without sending
        when the recipient already had `per_hour` messages of this kind within the hour (counted in the
        app DB, logged under a hash of the address). Raises ProviderRejected (non-retryable) if the
        provider refuses it; transient failures are retried. Only the first attempt is counted: a retry
        is the same message."""
        if activity.info().attempt == 1 and not self._admitted(notification):
            return SUPPRESSED
        subject, text = render(notification)
        with classified_errors():
            return self._mail.send(
                to_email=notification.to_email, to_name=notification.to_name, from_email=self._from,
                subject=subject, text=text, categories=[notification.kind.value],
                custom_args={"reference": notification.reference, "kind": notification.kind.value},
            )

    def _admitted(self, notification: Notification) -> bool:
        recipient, kind = recipient_key(notification.to_email), notification.kind.value
        if self._limits.admit_notification(recipient, kind, now=self._clock(), window=LIMIT_WINDOW,
                                           limit=self._per_hour):
            return True
        activity.logger.warning("%s message about %s to recipient %s suppressed: over %d within the hour",
                                kind, notification.reference, recipient[:12], self._per_hour)
        return False
