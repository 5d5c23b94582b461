"""A DC's hand-off to its WMS by signed webhook: the release, and the request to cancel.

`deliver_release` is retried by its workflow's policy for a long time (the WMS may be down for hours), so it
classifies only: a 410 (the receiver wants no more messages) is final, every other failure is
transient. `ask_to_cancel` reads the WMS's answer: 2xx `{"cancelled": true}` → cancelled, 409 or
`{"cancelled": false}` → refused (it has shipped), anything else → it answers later.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
from temporalio import activity
from temporalio.exceptions import ApplicationError

from integrations.http import PermanentProviderError, ProviderError
from integrations.webhooks import WebhookSender
from models.fulfilment import CancelAnswer
from models.handoff import SendWebhook, WebhookDelivered

WEBHOOK_GONE = "WebhookGone"


class HandOffActivities:
    """Posts a node's webhooks with `sender`, signed with the secret `secret_for(secret_ref)` resolves
    (Settings.partner_secret in the worker)."""

    def __init__(self, sender: WebhookSender, secret_for: Callable[[str], str]) -> None:
        self._sender = sender
        self._secret_for = secret_for

    @activity.defn
    def deliver_release(self, message: SendWebhook) -> WebhookDelivered:
        """Deliver `shipment.released`. Raises a retryable ApplicationError("WebhookFailed") for any
        failure but a 410, which raises the non-retryable "WebhookGone"."""
        try:
            response = self._post(message)
        except PermanentProviderError as err:
            if err.status == 410:
                raise ApplicationError(f"{message.url} answered 410 Gone: it takes no more messages",
                                       type=WEBHOOK_GONE, non_retryable=True) from err
            raise ApplicationError(f"the WMS refused {message.type}: {err}", type="WebhookFailed") from err
        except ProviderError as err:
            raise ApplicationError(f"the WMS did not take {message.type}: {err}", type="WebhookFailed") from err
        return WebhookDelivered(status=response.status_code)

    @activity.defn
    def ask_to_cancel(self, message: SendWebhook) -> WebhookDelivered:
        """Deliver `shipment.cancel_requested` and read the answer; never raises for the WMS's answer
        (an error or no answer is `later`: the WMS answers with an event)."""
        try:
            response = self._post(message)
        except PermanentProviderError as err:
            answer = CancelAnswer.REFUSED if err.status == 409 else CancelAnswer.LATER
            return WebhookDelivered(status=err.status or 0, answer=answer)
        except ProviderError as err:
            activity.logger.info("cancel request to %s not answered: %s", message.data.node_id, err)
            return WebhookDelivered(status=err.status or 0, answer=CancelAnswer.LATER)
        return WebhookDelivered(status=response.status_code, answer=_cancel_answer(response))

    def _post(self, message: SendWebhook) -> httpx.Response:
        secret = self._secret_for(message.secret_ref)
        return self._sender.post(message.url, secret, message.message_id, message.type,
                                 message.data.model_dump(mode="json"))


def _cancel_answer(response: httpx.Response) -> CancelAnswer:
    try:
        body = response.json()
    except ValueError:
        return CancelAnswer.LATER
    cancelled = body.get("cancelled") if isinstance(body, dict) else None
    if cancelled is True:
        return CancelAnswer.CANCELLED
    if cancelled is False:
        return CancelAnswer.REFUSED
    return CancelAnswer.LATER
