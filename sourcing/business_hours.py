"""A store's SLA clock: minutes count only while the store is open, in its own time zone.

Pure: the caller passes the instant to count from (timezone-aware; in a workflow `workflow.now()`).
A weekday missing from `BusinessHours.days` is a closed day. Opening hours are wall-clock times, so a
daylight-saving change moves them with the local clock: a store open 09:00-17:00 is open 8 real hours
on the day the clocks change too (the change happens at night). Public holidays are not modelled:
a store closed on one lists its hours without that day only by an operator's change.

Every comparison and subtraction is done in UTC: Python compares two datetimes that share a tzinfo
by their wall time, which is wrong across a DST change.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from models.network import BusinessHours, Node, NodeKind, Weekday

_WEEKDAYS = (Weekday.MON, Weekday.TUE, Weekday.WED, Weekday.THU, Weekday.FRI, Weekday.SAT, Weekday.SUN)


def _aware(instant: datetime) -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("the instant must be timezone-aware")
    return instant.astimezone(UTC)


def open_periods(hours: BusinessHours, day: date) -> tuple[datetime, datetime] | None:
    """When the store is open on its local `day`, as UTC instants (None: closed that day)."""
    opening = hours.days.get(_WEEKDAYS[day.weekday()])
    if opening is None:
        return None
    zone = ZoneInfo(hours.timezone)
    opens = datetime.combine(day, opening.opens, tzinfo=zone).astimezone(UTC)
    closes = datetime.combine(day, opening.closes, tzinfo=zone).astimezone(UTC)
    return opens, closes


def add_working_minutes(hours: BusinessHours | None, start: datetime, minutes: int) -> datetime:
    """The instant (UTC) when `minutes` of the store's opening hours have passed since `start`.

    No business hours: the store counts every minute. Zero minutes from a closed moment is the next
    opening. Raises ValueError for a naive `start` or negative minutes.
    """
    begin = _aware(start)
    if minutes < 0:
        raise ValueError("minutes must not be negative")
    if hours is None:
        return begin + timedelta(minutes=minutes)
    left = timedelta(minutes=minutes)
    day = begin.astimezone(ZoneInfo(hours.timezone)).date()
    # Some weekday is open (BusinessHours needs at least one), so each week counts some time.
    while True:
        period = open_periods(hours, day)
        if period is not None:
            opens, closes = period
            counted_from = max(begin, opens)
            if counted_from < closes:
                available = closes - counted_from
                if left <= available:
                    return counted_from + left
                left -= available
        day += timedelta(days=1)


def working_minutes_between(hours: BusinessHours | None, start: datetime, end: datetime) -> int:
    """Whole minutes of opening hours from `start` to `end` (0 when `end` is not later)."""
    begin, finish = _aware(start), _aware(end)
    if finish <= begin:
        return 0
    if hours is None:
        return int((finish - begin).total_seconds() // 60)
    zone = ZoneInfo(hours.timezone)
    total = timedelta(0)
    day = begin.astimezone(zone).date()
    while day <= finish.astimezone(zone).date():
        period = open_periods(hours, day)
        if period is not None:
            counted_from, counted_to = max(begin, period[0]), min(finish, period[1])
            if counted_to > counted_from:
                total += counted_to - counted_from
        day += timedelta(days=1)
    return int(total.total_seconds() // 60)


def local_day(node: Node, now: datetime) -> date:
    """The store's own date at `now` (its business hours' time zone; UTC without one): the day its
    daily capacity counts in."""
    hours = node.sla.business_hours if node.sla is not None else None
    zone = ZoneInfo(hours.timezone) if hours is not None else UTC
    return _aware(now).astimezone(zone).date()


def capacity_days(nodes: list[Node], now: datetime) -> dict[str, date]:
    """The local day of each store with a daily capacity: what to count its accepted work on."""
    return {n.node_id: local_day(n, now) for n in nodes if n.kind is NodeKind.STORE and n.daily_capacity}


def full_stores(nodes: list[Node], accepted: dict[str, int]) -> set[str]:
    """Stores whose accepted work today has reached their daily capacity: sourcing plans no more there."""
    return {n.node_id for n in nodes if n.kind is NodeKind.STORE and n.daily_capacity is not None
            and accepted.get(n.node_id, 0) >= n.daily_capacity}
