"""A store's SLA minutes count only while it is open, in its own time zone: across closed nights,
weekends and the days the clocks change."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from models.network import BusinessHours, OpeningHours, Weekday
from sourcing.business_hours import add_working_minutes, working_minutes_between

NINE_TO_FIVE = OpeningHours(opens=time(9), closes=time(17))
CHICAGO_WEEKDAYS = BusinessHours(timezone="America/Chicago", days={
    day: NINE_TO_FIVE for day in (Weekday.MON, Weekday.TUE, Weekday.WED, Weekday.THU, Weekday.FRI)})
CHICAGO_EVERY_DAY = BusinessHours(timezone="America/Chicago", days={day: NINE_TO_FIVE for day in Weekday})


def chicago(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo("America/Chicago"))


def test_minutes_inside_one_opening_count_as_wall_minutes() -> None:
    start = chicago("2026-03-04T10:00")  # a Wednesday
    assert add_working_minutes(CHICAGO_WEEKDAYS, start, 90) == chicago("2026-03-04T11:30").astimezone(UTC)


def test_the_clock_stops_overnight_and_resumes_at_opening() -> None:
    start = chicago("2026-03-04T16:30")
    assert add_working_minutes(CHICAGO_WEEKDAYS, start, 60) == chicago("2026-03-05T09:30").astimezone(UTC)


def test_work_handed_over_before_opening_starts_counting_at_opening() -> None:
    assert add_working_minutes(CHICAGO_WEEKDAYS, chicago("2026-03-04T06:00"), 30) == \
        chicago("2026-03-04T09:30").astimezone(UTC)


def test_a_weekend_is_skipped_when_the_store_is_closed_on_it() -> None:
    friday_afternoon = chicago("2026-03-06T16:00")
    assert add_working_minutes(CHICAGO_WEEKDAYS, friday_afternoon, 120) == \
        chicago("2026-03-09T10:00").astimezone(UTC), "an hour on Friday, an hour on Monday"
    saturday = chicago("2026-03-07T12:00")
    assert add_working_minutes(CHICAGO_WEEKDAYS, saturday, 0) == chicago("2026-03-09T09:00").astimezone(UTC)


def test_across_the_spring_dst_change_opening_hours_follow_the_local_clock() -> None:
    # Clocks went forward in Chicago on Sunday 2026-03-08 at 02:00: 9:00 CST is 15:00 UTC, 9:00 CDT 14:00 UTC.
    saturday_close = chicago("2026-03-07T16:00")
    deadline = add_working_minutes(CHICAGO_EVERY_DAY, saturday_close, 120)
    assert deadline == datetime(2026, 3, 8, 15, 0, tzinfo=UTC), "an hour on Saturday, then Sunday 09:00-10:00 CDT"
    assert deadline - saturday_close.astimezone(UTC) == (datetime(2026, 3, 8, 15, tzinfo=UTC)
                                                         - datetime(2026, 3, 7, 22, tzinfo=UTC))


def test_across_the_autumn_dst_change_a_full_day_is_still_eight_hours() -> None:
    # Clocks went back on Sunday 2026-11-01: the night is 25 hours long, the opening hours are not.
    start = chicago("2026-10-31T09:00")
    assert add_working_minutes(CHICAGO_EVERY_DAY, start, 8 * 60 + 60) == datetime(2026, 11, 1, 16, tzinfo=UTC)
    assert working_minutes_between(CHICAGO_EVERY_DAY, start, datetime(2026, 11, 1, 16, tzinfo=UTC)) == 9 * 60


def test_without_business_hours_every_minute_counts() -> None:
    start = chicago("2026-03-07T23:00")
    assert add_working_minutes(None, start, 90) == chicago("2026-03-08T00:30").astimezone(UTC)


def test_minutes_between_skip_closed_time() -> None:
    assert working_minutes_between(CHICAGO_WEEKDAYS, chicago("2026-03-06T16:00"), chicago("2026-03-09T10:00")) == 120
    assert working_minutes_between(CHICAGO_WEEKDAYS, chicago("2026-03-09T10:00"), chicago("2026-03-06T16:00")) == 0


def test_a_naive_instant_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        add_working_minutes(CHICAGO_WEEKDAYS, datetime(2026, 3, 4, 10), 5)
