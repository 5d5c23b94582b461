"""When a customer message that failed is tried again, and when we stop trying. Pure.

A message the provider did not take (an outage, a 5xx, no answer) is not the order's problem: the order
records it and goes on, and the message retry sweep (workflows/message_retry.py) sends it again later.
The wait before the next attempt is the message's age (so each wait doubles the time since the first
attempt), at least `first_wait` and at most `longest_wait`; the last attempt is made `give_up_after` the
first one, and a message that fails then is abandoned.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class MessageRetryPolicy:
    """How long a failed message waits, and for how long it is tried at all.

    `lease` is how long an attempt in progress (the ledger's `sending`) keeps the sweep away: longer than
    any one attempt can take, so a row still `sending` after it was left by an attempt that died."""

    first_wait: timedelta = timedelta(minutes=5)
    longest_wait: timedelta = timedelta(hours=1)
    give_up_after: timedelta = timedelta(hours=24)
    lease: timedelta = timedelta(minutes=10)

    def __post_init__(self) -> None:
        for name in ("first_wait", "longest_wait", "give_up_after", "lease"):
            if getattr(self, name) <= timedelta(0):
                raise ValueError(f"{name} must be positive")
        if self.longest_wait < self.first_wait:
            raise ValueError("longest_wait must be at least first_wait")


def next_attempt(first_tried: datetime, now: datetime, policy: MessageRetryPolicy) -> datetime | None:
    """When a message first tried at `first_tried`, whose attempt failed at `now`, is tried again; None
    when it is `give_up_after` old or older: abandon it."""
    deadline = first_tried + policy.give_up_after
    if now >= deadline:
        return None
    age = now - first_tried
    wait = min(max(age, policy.first_wait), policy.longest_wait)
    return min(now + wait, deadline)


def attempts_summary(state: str, attempts: int, policy: MessageRetryPolicy) -> str:
    """What became of a retried message, for its order's timeline: "sent after 3 attempts", "abandoned after
    24 h", "refused by the provider"."""
    if state == "sent":
        return f"sent after {attempts} attempt{'s' if attempts != 1 else ''}"
    if state == "abandoned":
        hours = policy.give_up_after.total_seconds() / 3600
        return f"abandoned after {hours:g} h ({attempts} attempts)"
    if state == "rejected":
        return f"refused by the provider after {attempts} attempts"
    return f"{state} after {attempts} attempts"
