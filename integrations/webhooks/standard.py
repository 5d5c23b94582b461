"""Standard Webhooks v1 (PROVIDERS.md §6) with the `standardwebhooks` library: signed over
`{webhook-id}.{webhook-timestamp}.{raw body}` with the secret's base64-decoded bytes (`whsec_...`).

`WebhookSender.post` signs the exact bytes it sends, once per attempt (a fresh `webhook-timestamp`,
the same `webhook-id`), and raises the integrations.http error tree: 408/429/5xx and network errors
are transient, other 4xx permanent (a 410 means the receiver wants no more). Retrying is the
caller's (a Temporal activity's retry policy), so nothing is retried here.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import httpx
from standardwebhooks import Webhook

from integrations.http import NO_RETRY, ErrorDetail, ProviderClient, send

PROVIDER = "webhook"


def message_body(message_type: str, data: Mapping[str, Any], *, at: datetime) -> bytes:
    """The recommended envelope `{"type", "timestamp", "data"}` as compact JSON bytes."""
    envelope = {"type": message_type, "timestamp": at.isoformat(), "data": data}
    return json.dumps(envelope, separators=(",", ":"), sort_keys=True).encode()


def sign_headers(secret: str, message_id: str, body: bytes, *, at: datetime) -> dict[str, str]:
    """The three Standard Webhooks headers for `body` sent at `at`."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, at, body),
    }


def verify(secret: str, body: bytes, headers: Mapping[str, str]) -> Any:
    """The parsed body if its signature and timestamp (±5 minutes) check out; else
    `standardwebhooks.WebhookVerificationError`."""
    return Webhook(secret).verify(body, dict(headers))


def _error_detail(response: httpx.Response) -> ErrorDetail:
    text = response.text.strip()[:200]
    return ErrorDetail(message=text or response.reason_phrase or f"HTTP {response.status_code}")


class WebhookSender(ProviderClient):
    """Posts signed messages to any URL (each node names its own)."""

    provider = PROVIDER

    def __init__(self, *, timeout: float = 15.0, transport: httpx.BaseTransport | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        super().__init__("", {"User-Agent": "omniroute-webhooks/1"}, timeout=timeout, transport=transport,
                         retry=NO_RETRY)
        self._clock = clock

    def post(self, url: str, secret: str, message_id: str, message_type: str,
             data: Mapping[str, Any]) -> httpx.Response:
        """Sign and post one message; the 2xx response, or a ProviderError."""
        at = self._clock()
        body = message_body(message_type, data, at=at)
        headers = {"Content-Type": "application/json", **sign_headers(secret, message_id, body, at=at)}
        request = self._http.build_request("POST", url, content=body, headers=headers)
        return send(self._http, request, provider=PROVIDER, parse_error=_error_detail, retry=NO_RETRY)
