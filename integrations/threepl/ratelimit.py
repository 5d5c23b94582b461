"""A sliding-window request limit, as ShipBob counts it (150 requests in any 60 s, per caller)."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Admission:
    """The limiter's answer: `allowed`, calls left in the window, and when to retry if refused."""

    allowed: bool
    remaining: int
    retry_after: int = 0


class SlidingWindowLimiter:
    """At most `limit` admissions per caller in any `window` seconds. Thread-safe.

    A refused request does not count. `retry_after` is whole seconds (rounded up, at least 1) until
    the oldest admission in the window leaves it.
    """

    def __init__(self, limit: int, window: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._calls: dict[str, deque[float]] = {}
        self.configure(limit, window)

    def configure(self, limit: int, window: float) -> None:
        """New limits, with every caller's window emptied."""
        if limit < 1 or window <= 0:
            raise ValueError("limit must be >= 1 and window > 0")
        with self._lock:
            self.limit, self.window = limit, window
            self._calls.clear()

    def admit(self, caller: str) -> Admission:
        now = self._clock()
        with self._lock:
            calls = self._calls.setdefault(caller, deque())
            while calls and calls[0] <= now - self.window:
                calls.popleft()
            if len(calls) >= self.limit:
                wait = calls[0] + self.window - now
                return Admission(allowed=False, remaining=0, retry_after=max(1, math.ceil(wait)))
            calls.append(now)
            return Admission(allowed=True, remaining=self.limit - len(calls))
