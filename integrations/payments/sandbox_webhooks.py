"""The Stripe sandbox's webhooks out: Event objects signed as Stripe signs them, and its idempotency book.

Endpoints are registered at `POST /_sandbox/webhook_endpoints` (`{url, secret?, enabled_events?}`;
without a secret one is made, `whsec_...`, and returned). Each event is one JSON body, signed with
`Stripe-Signature: t=...,v1=...` over exactly the bytes sent, posted through
integrations.sandbox_kit.WebhookDeliveries; a delivery that fails is tried again (3 attempts, backing
off). Endpoints and undelivered events do not outlive a restart; the idempotency book does.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import threading
import time
from typing import Any

from pydantic import BaseModel, Field

from integrations.payments import signature
from integrations.payments.sandbox_state import new_id
from integrations.sandbox_kit import WebhookDeliveries
from integrations.sandbox_store import SandboxStore

log = logging.getLogger(__name__)
_IDEMPOTENCY = "stripe.idempotency"
DELIVERY_ATTEMPTS = 3


class WebhookEndpointIn(BaseModel):
    url: str = Field(min_length=1, max_length=2000)
    secret: str | None = Field(default=None, min_length=1, max_length=500)
    enabled_events: list[str] = Field(default_factory=lambda: ["*"])


class WebhookOut:
    """Registered endpoints and a delivery queue; `emit` makes an Event and queues it for each endpoint."""

    def __init__(self, api_version: str) -> None:
        self._api_version = api_version
        self._lock = threading.Lock()
        self._endpoints: dict[str, dict[str, Any]] = {}
        self._deliveries = WebhookDeliveries("stripe", attempts=DELIVERY_ATTEMPTS, backoff_s=0.4, timeout=10.0)
        self._events = 0

    @property
    def stats(self) -> dict[str, int]:
        return {"events": self._events, "delivered": self._deliveries.delivered, "failed": self._deliveries.failed}

    def register(self, endpoint: WebhookEndpointIn) -> dict[str, Any]:
        record: dict[str, Any] = {"id": new_id("we"), "object": "webhook_endpoint", "url": endpoint.url,
                  "enabled_events": endpoint.enabled_events, "status": "enabled",
                  "secret": endpoint.secret or f"whsec_{secrets.token_hex(24)}"}
        with self._lock:
            self._endpoints[record["id"]] = record
        return dict(record)

    def remove(self, endpoint_id: str) -> bool:
        with self._lock:
            return self._endpoints.pop(endpoint_id, None) is not None

    def emit(self, event_type: str, obj: dict[str, Any], *, request_id: str | None,
             idempotency_key: str | None) -> dict[str, Any]:
        event = {"id": new_id("evt"), "object": "event", "api_version": self._api_version,
                 "created": int(time.time()), "data": {"object": obj}, "livemode": False,
                 "pending_webhooks": 0, "request": {"id": request_id, "idempotency_key": idempotency_key},
                 "type": event_type}
        with self._lock:
            targets = [dict(e) for e in self._endpoints.values()
                       if "*" in e["enabled_events"] or event_type in e["enabled_events"]]
            event["pending_webhooks"] = len(targets)
            self._events += 1
        body = json.dumps(event, separators=(",", ":")).encode()
        for target in targets:
            self._deliveries.send(target["url"], body, {
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
                signature.SIGNATURE_HEADER: signature.sign(target["secret"], body)})
        return event


class IdempotencyBook:
    """Answers kept by Idempotency-Key with a fingerprint of the request that made them, and the keys
    whose request is still running (Stripe's 409 `idempotency_key_in_use`)."""

    def __init__(self, store: SandboxStore) -> None:
        self._lock = threading.Lock()
        self._store = store
        self._saved: dict[str, dict[str, Any]] = dict(store.load(_IDEMPOTENCY))
        self._running: set[str] = set()

    @staticmethod
    def fingerprint(method: str, path: str, params: dict[str, Any]) -> str:
        canonical = json.dumps([method, path, params], sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()

    def begin(self, key: str, fingerprint: str) -> dict[str, Any] | None:
        """The saved answer to replay, or None after marking `key` running. Raises LookupError when the
        key was used for other parameters ("mismatch") or its first request still runs ("in_use")."""
        with self._lock:
            saved = self._saved.get(key)
            if saved is not None:
                if saved["fingerprint"] != fingerprint:
                    raise LookupError("mismatch")
                return dict(saved)
            if key in self._running:
                raise LookupError("in_use")
            self._running.add(key)
            return None

    def finish(self, key: str, fingerprint: str, answer: tuple[int, dict[str, Any], str] | None) -> None:
        """Keep `(status, body, request_id)` under `key`, or (None) forget that it ran."""
        with self._lock:
            self._running.discard(key)
            if answer is None:
                return
            status, body, request_id = answer
            record = {"fingerprint": fingerprint, "status": status, "body": body, "request_id": request_id}
            self._store.put(_IDEMPOTENCY, key, record)
            self._saved[key] = record
