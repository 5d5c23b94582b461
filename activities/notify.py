"""Customer notifications through the mail provider (SendGrid v3 wire format)."""

from __future__ import annotations

from temporalio import activity

from activities.errors import classified_errors
from integrations.notify.sendgrid import SendGridClient
from models.notify import Notification, NotificationKind

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
}


def render(notification: Notification) -> tuple[str, str]:
    subject = SUBJECTS[notification.kind].format(reference=notification.reference)
    facts = "\n".join(f"{key.replace('_', ' ')}: {value}" for key, value in sorted(notification.facts.items()))
    body = f"Hello {notification.to_name},\n\n{subject}.\n\n{facts}\n".rstrip() + "\n"
    return subject, body


class NotifyActivities:
    def __init__(self, mail: SendGridClient, mail_from: str) -> None:
        self._mail = mail
        self._from = mail_from

    @activity.defn
    def notify(self, notification: Notification) -> str:
        """Send one customer message; returns the provider's message id. Raises ProviderRejected
        (non-retryable) if the provider refuses it; transient failures are retried."""
        subject, text = render(notification)
        with classified_errors():
            return self._mail.send(
                to_email=notification.to_email, to_name=notification.to_name, from_email=self._from,
                subject=subject, text=text, categories=[notification.kind.value],
                custom_args={"reference": notification.reference, "kind": notification.kind.value},
            )
