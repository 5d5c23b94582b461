"""The per-recipient message count on SQLite and PostgreSQL: the limit within a window, a new window after
it, kinds and recipients counted apart, and racing workers never admitting more than the limit."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from store import Store
from tests.fixtures.concurrency import race

HOUR = timedelta(hours=1)
T0 = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


def recipient() -> str:
    return uuid.uuid4().hex * 2  # the 64 hex digits of a SHA-256


def admit(store: Store, who: str, at: datetime, *, kind: str = "return_rejected", limit: int = 3) -> bool:
    return store.admit_notification(who, kind, now=at, window=HOUR, limit=limit)


def test_the_message_over_the_limit_within_the_window_is_suppressed_and_counted(store: Store) -> None:
    who = recipient()

    answers = [admit(store, who, T0 + timedelta(minutes=minute)) for minute in (0, 10, 20, 30, 40)]

    assert answers == [True, True, True, False, False]
    usage = store.notification_usage(who, "return_rejected")
    assert usage is not None
    assert (usage.window_start, usage.window_sent, usage.suppressed_total) == (T0, 3, 2)
    assert usage.last_suppressed_at == T0 + timedelta(minutes=40)


def test_a_new_window_opens_once_the_last_one_has_closed(store: Store) -> None:
    who = recipient()
    for minute in (0, 1, 2, 3):
        admit(store, who, T0 + timedelta(minutes=minute))

    assert admit(store, who, T0 + timedelta(minutes=59)) is False, "still the window opened at T0"
    assert admit(store, who, T0 + HOUR) is True
    usage = store.notification_usage(who, "return_rejected")
    assert usage is not None and (usage.window_start, usage.window_sent) == (T0 + HOUR, 1)
    assert usage.suppressed_total == 2, "what was held back stays on record"


def test_recipients_and_kinds_are_counted_apart(store: Store) -> None:
    victim, other = recipient(), recipient()
    for minute in range(3):
        admit(store, victim, T0 + timedelta(minutes=minute))

    assert admit(store, victim, T0 + timedelta(minutes=5)) is False
    assert admit(store, other, T0 + timedelta(minutes=5)) is True
    assert admit(store, victim, T0 + timedelta(minutes=5), kind="shipped") is True
    assert store.notification_usage(recipient(), "shipped") is None


def test_a_limit_below_one_is_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="limit must be at least 1"):
        admit(store, recipient(), T0, limit=0)


def test_racing_workers_never_admit_more_than_the_limit(store: Store, database_url: str) -> None:
    who, limit, racers = recipient(), 4, 12

    admitted = race(database_url, racers, lambda racer, number: admit(racer, who, T0, limit=limit))

    assert admitted.count(True) == limit
    usage = store.notification_usage(who, "return_rejected")
    assert usage is not None and (usage.window_sent, usage.suppressed_total) == (limit, racers - limit)
