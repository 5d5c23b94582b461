"""The order search's request and cursor (models/order_search.py): what a cursor holds, which cursors are
refused, and how filters are normalised."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from models.order_search import OrderCursor, OrderSearch


def test_a_cursor_survives_its_round_trip_to_the_microsecond() -> None:
    cursor = OrderCursor(created_at=datetime(2025, 6, 2, 15, 0, 0, 123456, tzinfo=UTC), order_id="web-1|odd")

    token = cursor.encode()

    assert OrderCursor.decode(token) == cursor
    assert "=" not in token and "/" not in token and "+" not in token


def test_a_cursor_in_another_time_zone_is_read_in_utc() -> None:
    chicago = timezone(timedelta(hours=-5))
    token = OrderCursor(created_at=datetime(2025, 6, 2, 10, 0, tzinfo=chicago), order_id="web-1").encode()

    assert OrderCursor.decode(token).created_at == datetime(2025, 6, 2, 15, 0, tzinfo=UTC)


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize("token", [
    "", "!!!", "a", _b64("no separator"), _b64("2025-06-02T15:00:00+00:00|"), _b64("yesterday|web-1"),
    _b64("2025-06-02T15:00:00|web-1"), _b64("0001-01-01T00:00:00+05:00|web-1"), "x" * 1000,
    base64.urlsafe_b64encode(b"\xff\xfe|web-1").decode(), _b64("2025-06-02T15:00:00+00:00|web\x00-1"),
])
def test_anything_but_a_cursor_this_api_answered_is_refused(token: str) -> None:
    with pytest.raises(ValueError, match="not a cursor"):
        OrderCursor.decode(token)


def test_the_e_mail_is_searched_trimmed_and_lower_cased_and_times_in_utc() -> None:
    search = OrderSearch(customer_email=" Ada@Example.COM ", created_from=datetime(2025, 6, 2, 10, 0))

    assert search.customer_email == "ada@example.com"
    assert search.created_from == datetime(2025, 6, 2, 10, 0, tzinfo=UTC)


def test_a_range_that_ends_before_it_starts_names_created_to() -> None:
    with pytest.raises(ValidationError) as refused:
        OrderSearch(created_from=datetime(2025, 6, 2, tzinfo=UTC), created_to=datetime(2025, 6, 1, tzinfo=UTC))

    assert [error["loc"] for error in refused.value.errors()] == [("created_to",)]


def test_a_time_with_no_utc_equivalent_is_refused() -> None:
    with pytest.raises(ValidationError, match="out of range"):
        OrderSearch(created_from=datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=5))))
