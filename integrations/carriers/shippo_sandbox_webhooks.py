"""The Shippo sandbox's webhooks out: `{"event", "test", "data"}` bodies signed with
`Shippo-Auth-Signature` over exactly the bytes posted, to every active webhook registered for the event
(or for `all`), through integrations.sandbox_kit.WebhookDeliveries: a failed delivery is tried three
times in all, backing off. Undelivered bodies do not outlive a restart."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

from integrations.carriers import shippo_signature
from integrations.sandbox_kit import WebhookDeliveries

ATTEMPTS = 3


class WebhookSender:
    def __init__(self, secret: str, webhooks: Callable[[], list[dict[str, Any]]], *,
                 transport: httpx.BaseTransport | None = None) -> None:
        self._secret = secret
        self._webhooks = webhooks
        self._deliveries = WebhookDeliveries("shippo", attempts=ATTEMPTS, transport=transport)

    @property
    def stats(self) -> dict[str, int]:
        return {"webhooks_sent": self._deliveries.delivered, "webhooks_failed": self._deliveries.failed}

    def emit(self, events: list[tuple[str, dict[str, Any]]]) -> None:
        for event, data in events:
            body = json.dumps({"event": event, "test": True, "data": data}, separators=(",", ":")).encode()
            headers = {"Content-Type": "application/json",
                       shippo_signature.SIGNATURE_HEADER: shippo_signature.sign(self._secret, body)}
            for webhook in self._webhooks():
                if webhook.get("active", True) and webhook["event"] in (event, "all"):
                    self._deliveries.send(webhook["url"], body, headers)
