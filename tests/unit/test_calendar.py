"""Ship and delivery dates from cut-offs, time zones, ship days and transit days, on a known calendar.

March 2025: Tuesday the 4th, Friday the 7th, Saturday the 8th, Monday the 10th (US clocks change on the 9th).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.costs import NodeCosts
from sourcing.calendar import delivery_date, next_cutoff, ship_and_delivery, ship_date
from tests.fixtures.sourcing import service

CHICAGO = ZoneInfo("America/Chicago")
DC = NodeCosts(cutoff="14:00", timezone="America/Chicago")


def chicago(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2025, 3, day, hour, minute, tzinfo=CHICAGO)


def test_an_order_before_the_cutoff_ships_the_same_day() -> None:
    assert ship_date(DC, chicago(4, 13, 59)) == date(2025, 3, 4)


def test_an_order_at_or_after_the_cutoff_ships_the_next_ship_day() -> None:
    assert ship_date(DC, chicago(4, 14, 0)) == date(2025, 3, 5)
    assert ship_date(DC, chicago(4, 23, 30)) == date(2025, 3, 5)


def test_an_order_on_friday_after_the_cutoff_ships_on_monday() -> None:
    assert ship_date(DC, chicago(7, 15)) == date(2025, 3, 10)


def test_a_weekend_order_ships_on_monday_unless_the_node_ships_saturdays() -> None:
    assert ship_date(DC, chicago(8, 9)) == date(2025, 3, 10)
    store = NodeCosts(cutoff="12:00", timezone="America/Chicago",
                      ship_weekdays=["mon", "tue", "wed", "thu", "fri", "sat"])
    assert ship_date(store, chicago(7, 15)) == date(2025, 3, 8)


def test_the_cutoff_is_read_in_the_nodes_own_time_zone() -> None:
    instant = datetime(2025, 3, 4, 19, 30, tzinfo=UTC)  # 14:30 in New York, 11:30 in Los Angeles
    new_york = NodeCosts(cutoff="14:00", timezone="America/New_York")
    los_angeles = NodeCosts(cutoff="14:00", timezone="America/Los_Angeles")
    assert (ship_date(new_york, instant), ship_date(los_angeles, instant)) == (date(2025, 3, 5), date(2025, 3, 4))


def test_processing_days_count_ship_days_only() -> None:
    slow = NodeCosts(cutoff="12:00", timezone="America/Chicago", processing_days=2)
    assert ship_date(slow, chicago(6, 9)) == date(2025, 3, 10)  # Thursday + Friday, Monday


def test_a_time_without_a_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        ship_date(DC, datetime(2025, 3, 4, 10, 0))


def test_transit_days_skip_weekends_and_saturday_counts_only_for_services_that_deliver_then() -> None:
    friday = date(2025, 3, 7)
    assert delivery_date(friday, 1, delivers_saturday=False) == date(2025, 3, 10)
    assert delivery_date(friday, 1, delivers_saturday=True) == date(2025, 3, 8)
    assert delivery_date(friday, 2, delivers_saturday=True) == date(2025, 3, 10)
    assert delivery_date(date(2025, 3, 6), 2, delivers_saturday=False) == date(2025, 3, 10)
    assert delivery_date(friday, 0, delivers_saturday=False) == friday


@given(shipped=st.dates(date(2025, 1, 1), date(2026, 12, 31)), days=st.integers(1, 10), saturday=st.booleans())
def test_nothing_is_delivered_on_a_sunday_and_every_transit_day_adds_at_least_one_day(
    shipped: date, days: int, saturday: bool
) -> None:
    arrives = delivery_date(shipped, days, saturday)
    assert arrives.weekday() != 6 and (saturday or arrives.weekday() != 5)
    assert shipped + timedelta(days=days) <= arrives <= shipped + timedelta(days=2 * days + 2)


def test_zone_one_takes_the_transit_time_of_the_cards_first_zone() -> None:
    ground = service(transit_days={2: 2, **{z: 3 for z in range(3, 9)}})
    assert ship_and_delivery(DC, ground, 1, chicago(4, 9)) == (date(2025, 3, 4), date(2025, 3, 6))
    with pytest.raises(ValueError, match="does not serve zone 9"):
        ship_and_delivery(DC, ground, 9, chicago(4, 9))


def test_the_next_cutoff_is_todays_before_it_and_tomorrows_from_it_on_in_the_nodes_zone() -> None:
    chicago = ZoneInfo("America/Chicago")
    costs = NodeCosts(cutoff="15:00", timezone="America/Chicago")
    assert next_cutoff(costs, datetime(2025, 3, 4, 14, 59, tzinfo=chicago)) == datetime(2025, 3, 4, 15, 0,
                                                                                         tzinfo=chicago)
    assert next_cutoff(costs, datetime(2025, 3, 4, 15, 0, tzinfo=chicago)) == datetime(2025, 3, 5, 15, 0,
                                                                                        tzinfo=chicago)
    # 22:30 UTC is 16:30 in Chicago: past today's cut-off.
    assert next_cutoff(costs, datetime(2025, 3, 4, 22, 30, tzinfo=UTC)) == datetime(2025, 3, 5, 21, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match="timezone-aware"):
        next_cutoff(costs, datetime(2025, 3, 4, 12, 0))
