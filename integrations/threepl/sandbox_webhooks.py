"""The ShipBob sandbox's webhooks: subscriptions and signed deliveries, as ShipBob's dated API sends them.

A subscription (`POST /{version}/webhook {"topics": [...], "url"}`, or the one the sandbox is started
with) receives every event of its topics as a POST of the JSON payload, signed by the Standard Webhooks
scheme ShipBob documents: headers `webhook-id` (stable across retries), `webhook-timestamp` (unix
seconds of the attempt), `webhook-signature` (`v1,` + base64 HMAC-SHA256 of `{id}.{timestamp}.{body}`
keyed with the base64-decoded secret after `whsec_`) and `x-webhook-topic`. A delivery that does not get
a 2xx is tried again after each of `retry_delays_seconds`. Knobs for tests and the demo: drop the next
N deliveries (never sent), deliver each one twice (same id, as an at-least-once sender may), or hold
them back until released (an event that has happened at ShipBob but whose webhook is still on its way).
"""

from __future__ import annotations

import json
import secrets
import threading
from datetime import UTC, datetime
from typing import Any

import httpx
from pydantic import BaseModel, Field
from standardwebhooks import Webhook

from integrations.sandbox_store import SandboxStore

_SUBSCRIPTIONS = "shipbob.webhook"
TOPICS = ("order.shipped", "order.delivered", "order.shipment.delivered", "order.shipment.cancelled",
          "order.shipment.exception", "order.shipment.on_hold", "order.shipment.tracking.updated")


class NewSubscription(BaseModel):
    topics: list[str] = Field(min_length=1)
    url: str = Field(pattern=r"^https?://\S{1,2000}$")


class DeliveryKnobs(BaseModel):
    drop_next: int = Field(default=0, ge=0, description="deliveries to drop (never sent) from now on")
    duplicate: bool = Field(default=False, description="send every delivery twice, under the same webhook-id")
    hold: bool = Field(default=False, description=(
        "keep deliveries back until `POST /_sandbox/webhooks/release` (a webhook still on its way)"))
    retry_delays_seconds: list[float] = Field(default_factory=lambda: [0.5, 1.0, 2.0, 4.0],
                                              max_length=10)


class WebhookSender:
    """Subscriptions (kept in `store`), the delivery knobs, and a log of every attempt."""

    def __init__(self, secret: str, store: SandboxStore, *, default_url: str | None = None) -> None:
        self._signer = Webhook(secret)
        self._lock = threading.Lock()
        self._store = store
        self._default_url = default_url
        self._subscriptions: list[dict[str, Any]] = [sub for _, sub in store.load(_SUBSCRIPTIONS)]
        self._next_id = max((int(sub["id"]) for sub in self._subscriptions), default=0) + 1
        self.knobs = DeliveryKnobs()
        self._log: list[dict[str, Any]] = []
        self._timers: set[threading.Timer] = set()
        self._held: list[tuple[str, str, str, bytes, dict[str, Any]]] = []

    def subscribe(self, new: NewSubscription) -> dict[str, Any]:
        with self._lock:
            sub = {"id": self._next_id, "topics": list(new.topics), "url": new.url,
                   "created_at": datetime.now(UTC).isoformat()}
            self._store.put(_SUBSCRIPTIONS, str(sub["id"]), sub)
            self._next_id += 1
            self._subscriptions.append(sub)
            return dict(sub)

    def subscriptions(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(sub) for sub in self._subscriptions]

    def unsubscribe(self, subscription_id: int) -> bool:
        with self._lock:
            kept = [sub for sub in self._subscriptions if sub["id"] != subscription_id]
            if len(kept) == len(self._subscriptions):
                return False
            self._store.delete(_SUBSCRIPTIONS, str(subscription_id))
            self._subscriptions = kept
            return True

    def log(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(entry) for entry in self._log]

    def reset(self) -> None:
        with self._lock:
            self._store.clear(_SUBSCRIPTIONS)
            self._subscriptions, self._log, self.knobs, self._held = [], [], DeliveryKnobs(), []
            timers, self._timers = set(self._timers), set()
        for timer in timers:
            timer.cancel()

    def publish(self, topic: str, payload: dict[str, Any]) -> None:
        """Queue one message per subscription of `topic` (and the default URL), each with its own id."""
        body = json.dumps(payload, separators=(",", ":")).encode()
        with self._lock:
            urls = [sub["url"] for sub in self._subscriptions if topic in sub["topics"]]
            if self._default_url and self._default_url not in urls:
                urls.append(self._default_url)
            knobs = self.knobs
            sends = 2 if knobs.duplicate else 1
            plans: list[tuple[str, str]] = []
            for url in urls:
                message_id = f"msg_{secrets.token_hex(12)}"
                if knobs.drop_next > 0:
                    knobs.drop_next -= 1
                    self._log.append({"webhook_id": message_id, "topic": topic, "url": url, "status": "dropped",
                                      "attempts": 0, "payload": payload})
                    continue
                plans += [(url, message_id)] * sends
            if knobs.hold:
                self._held += [(url, message_id, topic, body, payload) for url, message_id in plans]
                return
        for url, message_id in plans:
            self.later(0.0, self._deliver, url, message_id, topic, body, payload, 0)

    def release(self) -> int:
        """Stop holding deliveries back and send the held ones, in the order they were made."""
        with self._lock:
            held, self._held = self._held, []
            self.knobs = self.knobs.model_copy(update={"hold": False})
        for url, message_id, topic, body, payload in held:
            self._deliver(url, message_id, topic, body, payload, 0)
        return len(held)

    def sign(self, message_id: str, timestamp: datetime, body: bytes) -> str:
        return self._signer.sign(message_id, timestamp, body)

    def _deliver(self, url: str, message_id: str, topic: str, body: bytes, payload: dict[str, Any],
                 attempt: int) -> None:
        now = datetime.now(UTC)
        headers = {"content-type": "application/json", "webhook-id": message_id,
                   "webhook-timestamp": str(int(now.timestamp())),
                   "webhook-signature": self.sign(message_id, now, body), "x-webhook-topic": topic}
        try:
            status: int | str = httpx.post(url, content=body, headers=headers, timeout=15.0).status_code
        except httpx.HTTPError as exc:
            status = f"error: {type(exc).__name__}"
        delivered = isinstance(status, int) and 200 <= status < 300
        with self._lock:
            self._log.append({"webhook_id": message_id, "topic": topic, "url": url, "status": status,
                              "attempts": attempt + 1, "payload": payload})
            delays = self.knobs.retry_delays_seconds
        if not delivered and attempt < len(delays):
            self.later(delays[attempt], self._deliver, url, message_id, topic, body, payload, attempt + 1)

    def later(self, delay: float, fn: Any, *args: Any) -> None:
        def run() -> None:
            with self._lock:
                self._timers.discard(timer)
            fn(*args)

        timer = threading.Timer(delay, run)
        timer.daemon = True
        with self._lock:
            self._timers.add(timer)
        timer.start()
