"""Pure parts of the store: URL handling, timestamp normalisation, error messages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.dialects import postgresql, sqlite

from store import InvalidQuantityError, StoreError, UnknownNodeError, UnknownOrderError
from store.engine import normalize_url
from store.tables import UTCDateTime


@pytest.mark.parametrize(
    "url",
    ["postgresql://app:s3cr%40t@db:5432/omniroute", "postgres://app:s3cr%40t@db:5432/omniroute"],
)
def test_postgres_urls_are_pinned_to_psycopg_3(url: str) -> None:
    normalized = normalize_url(url)
    assert normalized.drivername == "postgresql+psycopg"
    assert (normalized.host, normalized.database, normalized.password) == ("db", "omniroute", "s3cr@t")


def test_sqlite_and_psycopg_urls_are_kept_as_given() -> None:
    assert normalize_url("sqlite:///var/app.db").render_as_string() == "sqlite:///var/app.db"
    assert normalize_url("postgresql+psycopg://db/x").drivername == "postgresql+psycopg"


def test_an_unsupported_database_is_refused_by_name() -> None:
    with pytest.raises(StoreError, match="mysql"):
        normalize_url("mysql://db/x")


def test_timestamps_are_stored_as_utc_and_read_back_aware() -> None:
    column_type = UTCDateTime()
    chicago = datetime(2025, 3, 1, 6, 30, tzinfo=timezone(timedelta(hours=-6)))

    stored_in_sqlite = column_type.process_bind_param(chicago, sqlite.dialect())
    stored_in_postgres = column_type.process_bind_param(chicago, postgresql.dialect())

    assert stored_in_sqlite == datetime(2025, 3, 1, 12, 30)
    assert stored_in_postgres == datetime(2025, 3, 1, 12, 30, tzinfo=UTC)
    assert column_type.process_result_value(stored_in_sqlite, sqlite.dialect()) == chicago
    read_back = column_type.process_result_value(stored_in_sqlite, sqlite.dialect())
    assert read_back is not None and read_back.tzinfo is UTC


def test_a_naive_timestamp_is_taken_as_utc() -> None:
    naive = datetime(2025, 3, 1, 12, 30)
    assert UTCDateTime().process_bind_param(naive, postgresql.dialect()) == naive.replace(tzinfo=UTC)


def test_errors_name_what_was_wrong() -> None:
    assert "dc-9" in str(UnknownNodeError("dc-9")) and UnknownNodeError("dc-9").node_id == "dc-9"
    assert "web-1" in str(UnknownOrderError("web-1"))
    assert str(InvalidQuantityError("on_hand", -2, "zero or more")) == "on_hand must be zero or more, got -2"
    assert issubclass(UnknownNodeError, StoreError) and issubclass(InvalidQuantityError, StoreError)
