"""Customer messages from any workflow: sent as a local activity, and never the reason a workflow fails.

`send_notice` answers None when the message went out, else what became of it, for the caller to
record where it records what happened (the order's events, a shipment's notes, a return's log): a
send that failed after its retries, or one held back because the recipient had already had their
hour's share of that kind of message. A failed local activity reaches the workflow as an
ApplicationError as well as an ActivityError, so both are caught.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.notify import SUPPRESSED, NotifyActivities
    from models.notify import Notification, notification_key
    from workflows.policies import NOTIFY, describe, local


async def send_notice(note: Notification) -> str | None:
    """Send `note`; None when it went, else "failed: why" or "suppressed: why". A note without an
    idempotency key gets this workflow's (notification_key): a retry or rerun of the send is the same
    message, which the notify activity sends once."""
    if note.idempotency_key is None:
        note = note.model_copy(update={"idempotency_key": notification_key(workflow.info().workflow_id, note)})
    try:
        result = await local(NotifyActivities.notify, note, NOTIFY)
    except (ActivityError, ApplicationError) as err:
        return f"failed: {describe(err)}"
    if result == SUPPRESSED:
        return "suppressed: the recipient had their hour's share of these messages"
    return None
