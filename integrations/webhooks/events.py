"""Events out to the retailer's systems: one POST of an event, signed by Standard Webhooks at the moment it
is sent (a fresh `webhook-timestamp`, the event's id as `webhook-id`, the same body every attempt).

Unlike `WebhookSender.post`, an answer that is not a 2xx is not raised: every attempt, failed or not, goes
into the subscription's delivery log with its status, so `send` reports what came back (status, the
receiver's Retry-After, an excerpt of the error, the time it took) and the caller classifies it. Nothing is
retried here: the delivery workflow's schedule is the retry.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from integrations.http import parse_retry_after
from integrations.webhooks.standard import sign_headers

USER_AGENT = "omniroute-events/1"


@dataclass(frozen=True)
class SendResult:
    status: int | None  # None: no answer (connection refused, timeout)
    error: str | None
    duration_ms: int
    retry_after: float | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class EventSender:
    """Posts event bodies to subscribers' URLs. `timeout` is per attempt (Standard Webhooks: 15-30 s)."""

    def __init__(self, *, timeout: float = 15.0, transport: httpx.BaseTransport | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._http = httpx.Client(timeout=timeout, transport=transport, follow_redirects=False,
                                  headers={"User-Agent": USER_AGENT})
        self._clock = clock

    def close(self) -> None:
        self._http.close()

    def send(self, url: str, secret: str, message_id: str, body: bytes) -> SendResult:
        headers = {"Content-Type": "application/json",
                   **sign_headers(secret, message_id, body, at=self._clock())}
        started = time.monotonic()
        try:
            response = self._http.post(url, content=body, headers=headers)
        except httpx.HTTPError as err:
            return SendResult(None, f"{type(err).__name__}: {err}"[:500] or type(err).__name__, _since(started))
        took = _since(started)
        if 200 <= response.status_code < 300:
            return SendResult(response.status_code, None, took)
        excerpt = response.text.strip()[:200] or response.reason_phrase or f"HTTP {response.status_code}"
        return SendResult(response.status_code, excerpt, took, parse_retry_after(response.headers.get("retry-after")))


def _since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
