"""The EasyPost sandbox's trackers and event webhooks.

Every label bought gets a tracker (`POST /trackers` makes one for any tracking code, EasyPost's test
codes included). Under a `TrackingPlan` with `step_s` set, each tracker walks its statuses on its own
(pre_transit → in_transit → out_for_delivery → delivered, or a path with an injected exception) and
each move is posted as a signed `tracker.updated` Event to every registered webhook
(`POST /webhooks`). Without `step_s` trackers stay where they are until `/_sandbox/trackers/{code}/advance`
moves them: what tests use to be exact.

Knobs (`PUT /_sandbox/tracking`): `first_scan_s` (label bought → first scan) and `step_s` (between
statuses); `exception` and `exception_every` (every n-th tracker meets that exception); `drop`
(statuses whose webhooks are never sent: the tracker still moves); `duplicate` (every webhook sent
twice, same event id). A timer thread runs the scheduled moves; the webhooks go out from a small pool
of sender threads (`DELIVERY_WORKERS` at once), one tracker's in the order of its moves: a tracker's
next event waits until its previous one was delivered or given up, while other trackers' go on. A
delivery that fails is tried again (4 attempts, backing off) before the tracker's next event. The
threads live while there is something to do. Trackers are kept in the sandbox store; scheduled moves
and webhooks are not (they stop at a restart).
"""

from __future__ import annotations

import heapq
import itertools
import json
import logging
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import BaseModel, Field

from integrations.carriers.tracking import (
    SIGNATURE_HEADER,
    TEST_CODES,
    ExceptionStatus,
    TrackerStatus,
    delivery_path,
    new_tracker,
    now_text,
    sign,
    tracker_event,
    with_status,
)
from integrations.sandbox_store import SandboxStore

log = logging.getLogger(__name__)

_TRACKERS = "easypost.tracker"
DELIVERY_ATTEMPTS = 4
# Webhooks being delivered at once (to any hooks, for different trackers).
DELIVERY_WORKERS = 4


class TrackingPlan(BaseModel):
    """How the sandbox's carriers move parcels, and what goes wrong on the way."""

    step_s: float | None = Field(default=None, ge=0, le=3600, description=(
        "seconds between a tracker's statuses; unset: trackers move only when advanced by hand"))
    first_scan_s: float | None = Field(default=None, ge=0, le=3600, description=(
        "seconds from the label's purchase to the first scan (in_transit); unset: step_s"))
    exception: ExceptionStatus | None = None
    exception_every: int = Field(default=1, ge=1, le=1_000_000, description="the n-th, 2n-th... tracker meets it")
    drop: list[TrackerStatus] = Field(default_factory=list, description="statuses whose webhooks are not sent")
    duplicate: bool = False


class WebhookIn(BaseModel):
    url: str = Field(min_length=1, max_length=2000)
    webhook_secret: str | None = Field(default=None, max_length=500)


class TrackerBook:
    """Trackers, webhooks and the plan, behind one lock; `send` posts an event (the dispatcher's)."""

    def __init__(self, store: SandboxStore, plan: TrackingPlan | None = None,
                 send: Callable[[str, bytes, str | None], None] | None = None) -> None:
        self._lock = threading.Lock()
        self._store = store
        self._trackers: dict[str, dict[str, Any]] = dict(store.load(_TRACKERS))
        self._by_code = {t["tracking_code"]: tid for tid, t in self._trackers.items()}
        self._paths: dict[str, list[TrackerStatus]] = {}
        self._webhooks: dict[str, dict[str, Any]] = {}
        self.plan = plan or TrackingPlan()
        self._created = 0
        self._stats = {"trackers": len(self._trackers), "webhooks_sent": 0, "webhooks_failed": 0,
                       "webhooks_dropped": 0, "exceptions": 0}
        self._dispatcher = Dispatcher(self, send or _post)

    # -- trackers ------------------------------------------------------------------------------------

    def create(self, tracking_code: str, carrier: str, shipment_id: str | None = None) -> dict[str, Any]:
        """The tracker of `tracking_code` (made once per code, as EasyPost does), scheduled to move."""
        with self._lock:
            existing = self._by_code.get(tracking_code)
            if existing is not None:
                return dict(self._trackers[existing])
            tracker = new_tracker(tracking_code, carrier, shipment_id, TEST_CODES.get(tracking_code, "pre_transit"))
            self._created += 1
            exception = self.plan.exception if self._created % self.plan.exception_every == 0 else None
            self._paths[tracker["id"]] = [] if tracking_code in TEST_CODES else delivery_path(exception)
            self._save(tracker)
            self._stats["trackers"] += 1
            plan = self.plan
        if plan.step_s is not None and self._paths[tracker["id"]]:
            first = plan.first_scan_s if plan.first_scan_s is not None else plan.step_s
            self._dispatcher.schedule(first, lambda: self.advance(tracker["id"]))
        return dict(tracker)

    def get(self, tracker_id: str) -> dict[str, Any] | None:
        with self._lock:
            tracker = self._trackers.get(tracker_id)
            return None if tracker is None else dict(tracker)

    def by_code(self, tracking_code: str) -> dict[str, Any] | None:
        with self._lock:
            tracker_id = self._by_code.get(tracking_code)
            return None if tracker_id is None else dict(self._trackers[tracker_id])

    def advance(self, tracker_id: str, status: TrackerStatus | None = None) -> dict[str, Any] | None:
        """Move the tracker to `status`, or to the next status of its path (None when it has none left),
        and send the event; under a plan with `step_s` the move after it is scheduled."""
        with self._lock:
            tracker = self._trackers.get(tracker_id)
            path = self._paths.setdefault(tracker_id, [])
            if tracker is None or (status is None and not path):
                return None
            if status is None:
                status = path.pop(0)
            moved = with_status(tracker, status)
            self._save(moved)
            if status in ("failure", "return_to_sender", "available_for_pickup"):
                self._stats["exceptions"] += 1
            dropped = status in self.plan.drop
            hooks = [dict(hook) for hook in self._webhooks.values()]
            copies = 2 if self.plan.duplicate else 1
            step = self.plan.step_s if path else None
        if dropped:
            self._count("webhooks_dropped")
        elif hooks:
            event = tracker_event(moved, tracker["status"], [hook["url"] for hook in hooks])
            body = json.dumps(event).encode()
            for hook in hooks:
                for _ in range(copies):
                    self._dispatcher.deliver(tracker_id, hook["url"], body, hook["webhook_secret"])
        if step is not None:
            self._dispatcher.schedule(step, lambda: self.advance(tracker_id))
        return dict(moved)

    # -- webhooks, plan, stats -----------------------------------------------------------------------

    def add_webhook(self, hook: WebhookIn) -> dict[str, Any]:
        record: dict[str, Any] = {
            "id": f"hook_{secrets.token_hex(16)}", "object": "Webhook", "mode": "test", "url": hook.url,
            "created_at": now_text(), "disabled_at": None, "webhook_secret": hook.webhook_secret}
        with self._lock:
            self._webhooks[record["id"]] = record
        return _public(record)

    def webhooks(self) -> list[dict[str, Any]]:
        with self._lock:
            return [_public(hook) for hook in self._webhooks.values()]

    def delete_webhook(self, hook_id: str) -> bool:
        with self._lock:
            return self._webhooks.pop(hook_id, None) is not None

    def set_plan(self, plan: TrackingPlan) -> None:
        """A new plan, for trackers made from now on; moves already scheduled are dropped."""
        with self._lock:
            self.plan, self._created = plan, 0
        self._dispatcher.clear()

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {**self._stats, "pending": self._dispatcher.pending}

    def count_delivery(self, ok: bool) -> None:
        self._count("webhooks_sent" if ok else "webhooks_failed")

    def _count(self, name: str) -> None:
        with self._lock:
            self._stats[name] += 1

    def _save(self, tracker: dict[str, Any]) -> None:
        """Under the lock: to the store first, then in memory."""
        self._store.put(_TRACKERS, tracker["id"], tracker)
        self._trackers[tracker["id"]] = tracker
        self._by_code[tracker["tracking_code"]] = tracker["id"]


def _public(hook: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in hook.items() if key != "webhook_secret"}


def _post(url: str, body: bytes, secret: str | None) -> None:
    headers = {"Content-Type": "application/json", "User-Agent": "EasyPost WebHook Agent 1.0"}
    if secret:
        headers[SIGNATURE_HEADER] = sign(body, secret)
    httpx.post(url, content=body, headers=headers, timeout=10).raise_for_status()


@dataclass
class _Delivery:
    url: str
    body: bytes
    secret: str | None
    attempt: int = 1


class Dispatcher:
    """Timed jobs (a tracker's next move, a delivery's next attempt) run in order of their time on one
    thread; webhook deliveries run on up to `workers` sender threads, in order within a lane (a
    tracker): a lane's next delivery starts once its previous one is done (delivered, or given up
    after DELIVERY_ATTEMPTS). Threads start when there is work and end when none is left."""

    def __init__(self, book: TrackerBook, send: Callable[[str, bytes, str | None], None],
                 workers: int = DELIVERY_WORKERS) -> None:
        self._book, self._send, self._workers = book, send, workers
        self._jobs: list[tuple[float, int, Callable[[], object]]] = []
        self._order = itertools.count()
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        self._lanes: dict[str, deque[_Delivery]] = {}  # lane -> its deliveries, the first one being sent next
        self._ready: deque[str] = deque()  # lanes whose first delivery may be sent now
        self._senders = 0

    @property
    def pending(self) -> int:
        with self._wake:
            return len(self._jobs) + sum(len(lane) for lane in self._lanes.values())

    def schedule(self, after_s: float, job: Callable[[], object]) -> None:
        with self._wake:
            heapq.heappush(self._jobs, (time.monotonic() + after_s, next(self._order), job))
            self._wake.notify()
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="easypost-sandbox-tracking", daemon=True)
                self._thread.start()

    def deliver(self, lane: str, url: str, body: bytes, secret: str | None) -> None:
        """Post `body` to `url` after the lane's earlier deliveries."""
        with self._wake:
            queued = self._lanes.get(lane)
            if queued is not None:
                queued.append(_Delivery(url, body, secret))
                return
            self._lanes[lane] = deque([_Delivery(url, body, secret)])
            self._make_ready(lane)

    def clear(self) -> None:
        """Drop the scheduled moves and the deliveries not started (one being sent finishes)."""
        with self._wake:
            self._jobs.clear()
            self._lanes.clear()
            self._ready.clear()
            self._wake.notify()

    def _make_ready(self, lane: str) -> None:
        """Under the lock: the lane's first delivery may go; a sender is started if one is free."""
        self._ready.append(lane)
        if self._senders < self._workers:
            self._senders += 1
            threading.Thread(target=self._send_ready, name="easypost-sandbox-webhooks", daemon=True).start()

    def _send_ready(self) -> None:
        while True:
            with self._wake:
                if not self._ready:
                    self._senders -= 1
                    return
                lane = self._ready.popleft()
                queued = self._lanes.get(lane)
                if not queued:  # cleared meanwhile
                    continue
                delivery = queued[0]
            failed = self._failed(delivery)
            with self._wake:
                if self._lanes.get(lane) is not queued:  # cleared meanwhile
                    continue
                if failed and delivery.attempt < DELIVERY_ATTEMPTS:
                    delivery.attempt += 1
                    self.schedule(0.5 * 2 ** (delivery.attempt - 2), _again(self._retry, lane, queued))
                    continue
                queued.popleft()
                if queued:
                    self._make_ready(lane)
                else:
                    del self._lanes[lane]

    def _retry(self, lane: str, queued: deque[_Delivery]) -> None:
        """A failed delivery's wait is over: its lane may send it again (unless cleared meanwhile)."""
        with self._wake:
            if self._lanes.get(lane) is queued:
                self._make_ready(lane)

    def _failed(self, delivery: _Delivery) -> bool:
        """Send one attempt; True when it failed and is worth trying again."""
        try:
            self._send(delivery.url, delivery.body, delivery.secret)
        except httpx.HTTPError as err:
            log.warning("EasyPost sandbox: webhook to %s failed (attempt %d): %s", delivery.url, delivery.attempt, err)
            self._book.count_delivery(False)
            return True
        except Exception:  # a sender must never end with deliveries still queued
            log.exception("EasyPost sandbox: a webhook delivery failed")
            return False
        self._book.count_delivery(True)
        return False

    def _run(self) -> None:
        while True:
            with self._wake:
                while self._jobs and self._jobs[0][0] > time.monotonic():
                    self._wake.wait(self._jobs[0][0] - time.monotonic())
                if not self._jobs:
                    self._thread = None
                    return
                _, _, job = heapq.heappop(self._jobs)
            try:
                job()
            except Exception:  # a job must never end the thread with jobs still queued
                log.exception("EasyPost sandbox: a tracking job failed")


def _again(retry: Callable[[str, deque[_Delivery]], None], lane: str,
           queued: deque[_Delivery]) -> Callable[[], None]:
    return lambda: retry(lane, queued)
