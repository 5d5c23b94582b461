"""When a failed customer message is tried again: a wait as long as the message is old (so the time since
its first attempt doubles), at least the first wait and at most the longest; the last attempt a day after
the first, and none after that."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sourcing.message_retry import MessageRetryPolicy, attempts_summary, next_attempt

FIRST = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
POLICY = MessageRetryPolicy(first_wait=timedelta(minutes=5), longest_wait=timedelta(hours=1),
                            give_up_after=timedelta(hours=24))


def test_a_fresh_failure_waits_the_first_wait() -> None:
    assert next_attempt(FIRST, FIRST + timedelta(minutes=2), POLICY) == FIRST + timedelta(minutes=7)


def test_each_wait_is_as_long_as_the_message_is_old_so_the_age_doubles() -> None:
    failed_at = FIRST + timedelta(minutes=10)
    waits = []
    for _ in range(4):
        again = next_attempt(FIRST, failed_at, POLICY)
        assert again is not None
        waits.append(again - failed_at)
        failed_at = again

    assert waits == [timedelta(minutes=10), timedelta(minutes=20), timedelta(minutes=40), timedelta(hours=1)]


def test_the_wait_never_exceeds_the_longest_wait() -> None:
    assert next_attempt(FIRST, FIRST + timedelta(hours=5), POLICY) == FIRST + timedelta(hours=6)


def test_the_last_attempt_is_made_at_the_give_up_time_and_a_failure_then_abandons() -> None:
    last = next_attempt(FIRST, FIRST + timedelta(hours=23, minutes=30), POLICY)

    assert last == FIRST + timedelta(hours=24)
    assert next_attempt(FIRST, FIRST + timedelta(hours=24), POLICY) is None
    assert next_attempt(FIRST, FIRST + timedelta(days=3), POLICY) is None


@pytest.mark.parametrize("field", ["first_wait", "longest_wait", "give_up_after", "lease"])
def test_a_policy_with_a_wait_that_is_not_positive_is_refused_naming_it(field: str) -> None:
    with pytest.raises(ValueError, match=field):
        MessageRetryPolicy(**{field: timedelta(0)})


def test_a_longest_wait_below_the_first_is_refused() -> None:
    with pytest.raises(ValueError, match="longest_wait"):
        MessageRetryPolicy(first_wait=timedelta(minutes=10), longest_wait=timedelta(minutes=5))


def test_the_timeline_says_what_became_of_the_message() -> None:
    assert attempts_summary("sent", 3, POLICY) == "sent after 3 attempts"
    assert attempts_summary("sent", 1, POLICY) == "sent after 1 attempt"
    assert attempts_summary("abandoned", 12, POLICY) == "abandoned after 24 h (12 attempts)"
    assert attempts_summary("rejected", 4, POLICY) == "refused by the provider after 4 attempts"
