"""The Shippo sandbox's webhooks out: `{"event", "test", "data"}` bodies signed with
`Shippo-Auth-Signature` over exactly the bytes posted, to every active webhook registered for the event
(or for `all`). One background thread posts them while there is something to send; a failed delivery
is tried three times in all, backing off. Undelivered bodies do not outlive a restart."""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx

from integrations.carriers import shippo_signature

log = logging.getLogger(__name__)
ATTEMPTS = 3


class WebhookSender:
    def __init__(self, secret: str, webhooks: Callable[[], list[dict[str, Any]]], *,
                 transport: httpx.BaseTransport | None = None) -> None:
        self._secret = secret
        self._transport = transport
        self._webhooks = webhooks
        self._lock = threading.Lock()
        self._queue: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self._worker: threading.Thread | None = None
        self.stats = {"webhooks_sent": 0, "webhooks_failed": 0}

    def emit(self, events: list[tuple[str, dict[str, Any]]]) -> None:
        for event, data in events:
            targets = [w["url"] for w in self._webhooks()
                       if w.get("active", True) and w["event"] in (event, "all")]
            if not targets:
                continue
            body = json.dumps({"event": event, "test": True, "data": data}, separators=(",", ":")).encode()
            with self._lock:
                for url in targets:
                    self._queue.put((url, body))
                if self._worker is None or not self._worker.is_alive():
                    self._worker = threading.Thread(target=self._drain, name="shippo-sandbox-webhooks", daemon=True)
                    self._worker.start()

    def _drain(self) -> None:
        while True:
            try:
                url, body = self._queue.get(timeout=1.0)
            except queue.Empty:
                with self._lock:
                    if self._queue.empty():
                        self._worker = None
                        return
                continue
            delivered = any(self._post(url, body, attempt) for attempt in range(ATTEMPTS))
            with self._lock:
                self.stats["webhooks_sent" if delivered else "webhooks_failed"] += 1

    def _post(self, url: str, body: bytes, attempt: int) -> bool:
        if attempt:
            time.sleep(0.25 * 2 ** attempt)
        headers = {"Content-Type": "application/json",
                   shippo_signature.SIGNATURE_HEADER: shippo_signature.sign(self._secret, body)}
        try:
            with httpx.Client(transport=self._transport, timeout=5.0) as http:
                return http.post(url, content=body, headers=headers).is_success
        except httpx.HTTPError as exc:
            log.info("shippo sandbox webhook to %s failed: %r", url, exc)
            return False
