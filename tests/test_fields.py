"""Properties of the column encodings (dates and uuids), and their round trip through each backend."""

from __future__ import annotations

import uuid
from datetime import datetime
from datetime import timedelta
from datetime import timezone

import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from peewee_authjs import PeeweeAdapter
from peewee_authjs.fields import decode_datetime
from peewee_authjs.fields import format_sqlite_datetime
from peewee_authjs.fields import parse_datetime_text
from peewee_authjs.fields import parse_uuid
from peewee_authjs.fields import to_millis
from peewee_authjs.validation import MAX_DATETIME
from peewee_authjs.validation import MIN_DATETIME

UTC = timezone.utc

offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
instants = st.datetimes(
    min_value=MIN_DATETIME.replace(tzinfo=None) + timedelta(days=1),
    max_value=MAX_DATETIME.replace(tzinfo=None) - timedelta(days=1),
    timezones=st.just(UTC),
)
aware = st.builds(lambda instant, tz: instant.astimezone(tz), instants, offsets)


@given(aware)
def test_sqlite_text_round_trips_to_the_millisecond(value: datetime) -> None:
    """Writing then reading Sequelize's SQLite text gives the same instant, truncated to the ms."""
    text = format_sqlite_datetime(value)
    assert len(text) == 30 and text.endswith(" +00:00")
    parsed = parse_datetime_text(text)
    assert parsed == to_millis(value.astimezone(UTC))
    assert parsed.tzinfo == UTC


@given(aware, aware)
def test_sqlite_text_sorts_like_the_instants(first: datetime, second: datetime) -> None:
    """Stored texts compare as the instants they encode (so ORDER BY and < work in SQL)."""
    a, b = to_millis(first.astimezone(UTC)), to_millis(second.astimezone(UTC))
    text_a, text_b = format_sqlite_datetime(first), format_sqlite_datetime(second)
    assert (text_a < text_b) == (a < b)
    assert (text_a == text_b) == (a == b)


@given(instants, offsets, st.sampled_from(["T", " "]), st.integers(min_value=0, max_value=6))
def test_every_iso_form_is_read_as_the_same_instant(
    instant: datetime, tz: timezone, separator: str, digits: int
) -> None:
    """Offsets, T or space, and 0-6 fraction digits all parse to the instant they denote."""
    local = instant.astimezone(tz)
    fraction = f".{local.microsecond:06d}"[: digits + 1] if digits else ""
    text = local.strftime(f"%Y-%m-%d{separator}%H:%M:%S") + fraction + local.strftime("%z")
    expected = instant.replace(
        microsecond=int(f"{instant.microsecond:06d}"[:digits].ljust(6, "0")) if digits else 0
    )
    assert parse_datetime_text(text) == expected


def test_naive_text_is_utc_and_z_is_accepted() -> None:
    """Text without an offset is UTC (as Sequelize reads it); Z means UTC."""
    assert parse_datetime_text("2030-01-02 03:04:05") == datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert parse_datetime_text("2030-01-02T03:04:05.5Z") == datetime(2030, 1, 2, 3, 4, 5, 500000, tzinfo=UTC)
    assert decode_datetime(datetime(2030, 1, 2)) == datetime(2030, 1, 2, tzinfo=UTC)


@pytest.mark.parametrize("text", ["", "yesterday", "2030-13-01 00:00:00", "2030-01-02 03:04:05 +25:00x"])
def test_unreadable_text_raises(text: str) -> None:
    """Garbage is a ValueError, never a wrong date."""
    with pytest.raises(ValueError):
        parse_datetime_text(text)


@given(st.uuids())
def test_uuid_canonical_form(value: uuid.UUID) -> None:
    """Any uuid reads back as the dashed lowercase 36-char form, whatever the case given."""
    text = str(value)
    assert parse_uuid(text) == text
    assert parse_uuid(text.upper()) == text
    assert parse_uuid(text.replace("-", "")) is None
    assert parse_uuid("{" + text + "}") is None


@given(st.text(max_size=40))
def test_non_uuid_text_is_rejected(text: str) -> None:
    """parse_uuid never accepts what is not a dashed uuid."""
    parsed = parse_uuid(text)
    if parsed is not None:
        assert str(uuid.UUID(parsed)) == parsed == text.lower()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=aware, user_id=st.uuids(version=4))
def test_round_trip_through_the_backend(adapter: PeeweeAdapter, value: datetime, user_id: uuid.UUID) -> None:
    """A datetime and a uuid written through the adapter come back equal (ms) on this backend."""
    created = adapter.create_user({"id": str(user_id), "email_verified": value})
    try:
        found = adapter.get_user(str(user_id))
        assert found is not None
        assert found["id"] == str(user_id)
        assert found["email_verified"] == to_millis(value.astimezone(UTC))
        assert found == created
    finally:
        adapter.delete_user(str(user_id))
