"""Customer messages from any workflow: sent as a local activity, and never the reason a workflow fails.

`send_notice` answers None when the message went out, else what became of it, for the caller to
record where it records what happened (the order's events, a shipment's notes, a return's log): a
send that failed after its retries, or one held back because the recipient had already had their
hour's share of that kind of message. A failed local activity reaches the workflow as an
ApplicationError as well as an ActivityError, so both are caught. A message the provider did not take
stays in the message ledger and the message retry sweep sends it later (workflows/message_retry.py);
one it refused is not tried again.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.notify import SUPPRESSED, NotifyActivities
    from models.money import Money
    from models.notify import Notification, NotificationKind, notification_key
    from models.order import Customer
    from workflows.policies import NOTIFY, describe, local


def notice_to(customer: Customer, kind: NotificationKind, reference: str, facts: dict[str, str],
              amounts: dict[str, Money] | None = None) -> Notification:
    """A message of `kind` about `reference` to `customer`: by e-mail, by SMS too when they asked, in
    their language."""
    return Notification(kind=kind, to_email=str(customer.email), to_name=customer.name, reference=reference,
                        facts=facts, amounts=amounts or {}, to_phone=customer.phone, sms=customer.sms,
                        locale=customer.locale)


async def send_notice(note: Notification) -> str | None:
    """Send `note`; None when it went, else "failed: why" or "suppressed: why". A note without an
    idempotency key gets this workflow's (notification_key): a retry or rerun of the send is the same
    message, which the notify activity sends once."""
    if note.idempotency_key is None:
        note = note.model_copy(update={"idempotency_key": notification_key(workflow.info().workflow_id, note)})
    try:
        result = await local(NotifyActivities.notify, note, NOTIFY)
    except (ActivityError, ApplicationError) as err:
        later = "" if _refused(err) else "; it is retried later"
        return f"failed: {describe(err)}{later}"
    if result == SUPPRESSED:
        return "suppressed: the recipient had their hour's share of these messages"
    return None


def _refused(err: BaseException) -> bool:
    """Whether the provider refused the message for good (ProviderRejected), which nothing tries again."""
    cause = err.__cause__ if isinstance(err, ActivityError) else err
    return isinstance(cause, ApplicationError) and cause.non_retryable
