"""Column encodings shared with ``@auth/sequelize-adapter``.

Sequelize stores the same Python value differently on each backend; these fields
read and write exactly what it does, so that rows written by either side are
found and read by the other.

============  ==========================  ==============================  ========================
backend       uuid (``UUIDTextField``)     datetime (``UTCDateTimeField``)  datetime as stored
============  ==========================  ==============================  ========================
SQLite        ``UUID`` (dashed text)       ``DATETIME`` (text)              ``2024-05-06 07:08:09.123 +00:00``
PostgreSQL    native ``UUID``              ``TIMESTAMP WITH TIME ZONE``     the instant, in UTC
MySQL         ``CHAR(36) BINARY``          ``DATETIME(3)``                  naive UTC
============  ==========================  ==============================  ========================

Datetimes are timezone-aware UTC in Python and kept to the millisecond (extra
microseconds are truncated, as JavaScript's ``Date`` has none). On SQLite every
textual form Sequelize or peewee may have written is parsed on read.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import datetime
from datetime import timedelta
from datetime import timezone
from typing import Any
from typing import Literal

from peewee import Database
from peewee import DatabaseProxy
from peewee import Field
from peewee import ForeignKeyField
from peewee import MySQLDatabase
from peewee import PostgresqlDatabase
from peewee import SqliteDatabase

UTC = timezone.utc

Dialect = Literal["sqlite", "postgres", "mysql"]


def utcnow() -> datetime:
    """The current time as an aware UTC datetime, truncated to the millisecond."""
    return to_millis(datetime.now(UTC))


def to_millis(value: datetime) -> datetime:
    """Drop the microseconds below the millisecond (what every backend keeps)."""
    extra = value.microsecond % 1000
    # Subtraction keeps tzinfo and is several times faster than datetime.replace().
    return value - timedelta(microseconds=extra) if extra else value


def dialect_of(database: Database | DatabaseProxy) -> Dialect:
    """Which of the supported SQL dialects ``database`` speaks."""
    db = database.obj if isinstance(database, DatabaseProxy) else database
    if isinstance(db, SqliteDatabase):
        return "sqlite"
    if isinstance(db, PostgresqlDatabase):
        return "postgres"
    if isinstance(db, MySQLDatabase):
        return "mysql"
    raise TypeError(f"unsupported database class {type(db).__name__}: use SQLite, PostgreSQL or MySQL")


def _field_dialect(field: Field, ctx: Any = None) -> Dialect:
    model = getattr(field, "model", None)
    database = getattr(getattr(model, "_meta", None), "database", None)
    if database is not None and not (isinstance(database, DatabaseProxy) and database.obj is None):
        return dialect_of(database)
    # Unbound (e.g. a field handed to playhouse.migrate): tell the dialect by its SQL flavour.
    state = getattr(ctx, "state", None)
    if state is not None and getattr(state, "quote", None) == "``":
        return "mysql"
    if state is not None and getattr(state, "param", None) == "?":
        return "sqlite"
    return "postgres"


# --- uuids -------------------------------------------------------------------------------------

_UUID_DDL: dict[Dialect, str] = {"sqlite": "UUID", "postgres": "UUID", "mysql": "CHAR(36) BINARY"}


_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


#: ``CANONICAL_UUID(text)`` is a match exactly when ``text`` is a uuid in canonical form.
CANONICAL_UUID = _CANONICAL_UUID.fullmatch


def parse_uuid(value: object) -> str | None:
    """The canonical dashed lowercase form of a uuid string, or None if it is not one."""
    if type(value) is str and CANONICAL_UUID(value) is not None:
        return value  # already canonical: the hot path, 15x cheaper than uuid.UUID()
    if isinstance(value, uuid.UUID):
        return str(value)
    if not isinstance(value, str) or len(value) != 36:
        return None
    try:
        parsed = uuid.UUID(value)
    except ValueError:
        return None
    text = str(parsed)
    return text if text == value.lower() else None


class UUIDTextField(Field):
    """A uuid kept as the dashed 36-character string (native ``uuid`` on PostgreSQL).

    Python values are ``str``; peewee's own ``UUIDField`` stores 32 hex digits on
    SQLite, which Sequelize would never find.
    """

    field_type = "UUID"

    def ddl_datatype(self, ctx: Any) -> Any:
        from peewee import SQL

        return SQL(_UUID_DDL[_field_dialect(self, ctx)])

    def db_value(self, value: Any) -> Any:
        if value is None or not isinstance(value, (str, uuid.UUID)):
            return value
        return str(value).lower()

    def python_value(self, value: Any) -> Any:
        return None if value is None else str(value)


class UserForeignKeyField(ForeignKeyField):
    """A foreign key whose column type is its target's, per dialect (uuid columns differ)."""

    def ddl_datatype(self, ctx: Any) -> Any:
        return self.rel_field.ddl_datatype(ctx)


# --- datetimes ---------------------------------------------------------------------------------

_DATETIME_DDL: dict[Dialect, str] = {
    "sqlite": "DATETIME",
    "postgres": "TIMESTAMP WITH TIME ZONE",
    "mysql": "DATETIME(3)",
}

_DATETIME_TEXT = re.compile(
    r"\s*(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?"
    r"\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?\s*\Z"
)


_fromisoformat = datetime.fromisoformat
_combine = datetime.combine


def format_sqlite_datetime(value: datetime) -> str:
    """Sequelize's SQLite text for an aware datetime: ``YYYY-MM-DD HH:MM:SS.mmm +00:00``."""
    # isoformat() is C; for a UTC datetime its first 23 characters are exactly Sequelize's.
    return value.astimezone(UTC).isoformat(" ", "milliseconds")[:23] + " +00:00"


def parse_datetime_text(text: str) -> datetime:
    """Read any datetime text found in a SQLite column as an aware UTC datetime.

    Accepts Sequelize's form, peewee's (``.ffffff``, with or without an offset),
    ISO 8601 with ``T`` and ``Z``, and offsets other than UTC. Text without an
    offset is UTC (as Sequelize reads it). Raises ``ValueError`` for anything else.
    """
    if text[23:] == " +00:00" and text[10] == " ":
        # The form this library and Sequelize write: the hot path. With the offset glued
        # on, fromisoformat() returns the timezone.utc singleton itself (no replace()).
        try:
            return _fromisoformat(text[:23] + "+00:00")
        except ValueError:
            pass
    match = _DATETIME_TEXT.match(text)
    if match is None:
        raise ValueError("unreadable datetime text")
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    tz = UTC
    if offset and offset not in ("Z", "z"):
        sign = -1 if offset[0] == "-" else 1
        digits = offset[1:].replace(":", "")
        minutes = int(digits[:2]) * 60 + int(digits[2:4] or 0)
        tz = timezone(sign * timedelta(minutes=minutes))
    value = datetime(
        int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0), micro, tz
    )
    return value.astimezone(UTC)


def _encode_sqlite(value: datetime) -> str:
    return format_sqlite_datetime(value)


def _encode_postgres(value: datetime) -> datetime:
    return to_millis(value.astimezone(UTC))


def _encode_mysql(value: datetime) -> datetime:
    return to_millis(value.astimezone(UTC)).replace(tzinfo=None)


def decode_datetime(value: Any) -> datetime | None:
    """Turn what any driver returns for a datetime column into an aware UTC datetime."""
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return _combine(value.date(), value.time(), UTC)  # = replace(tzinfo=UTC), 4x faster
        return value.astimezone(UTC)
    if isinstance(value, bytes):
        value = value.decode("ascii")
    if isinstance(value, str):
        return parse_datetime_text(value)
    raise ValueError(f"unreadable datetime value of type {type(value).__name__}")


def decode_sqlite_datetime(value: Any) -> datetime | None:
    """:func:`decode_datetime` for SQLite's text, with Sequelize's form read first and inline."""
    if type(value) is str and value[23:] == " +00:00" and value[10] == " ":
        try:
            return _fromisoformat(value[:23] + "+00:00")
        except ValueError:
            pass
    return decode_datetime(value)


def datetime_decoder(dialect: Dialect) -> Callable[[Any], datetime | None]:
    """The function that reads what ``dialect``'s driver returns for a datetime column."""
    return decode_sqlite_datetime if dialect == "sqlite" else decode_datetime


_DATETIME_ENCODERS: dict[Dialect, Callable[[datetime], Any]] = {
    "sqlite": _encode_sqlite,
    "postgres": _encode_postgres,
    "mysql": _encode_mysql,
}


def datetime_encoder(dialect: Dialect) -> Callable[[datetime], Any]:
    """The function that turns an aware datetime into what ``dialect`` stores."""
    return _DATETIME_ENCODERS[dialect]


class UTCDateTimeField(Field):
    """An instant, aware UTC in Python, stored as Sequelize stores ``DataTypes.DATE``."""

    field_type = "DATETIME"

    def ddl_datatype(self, ctx: Any) -> Any:
        from peewee import SQL

        return SQL(_DATETIME_DDL[_field_dialect(self, ctx)])

    def db_value(self, value: Any) -> Any:
        if not isinstance(value, datetime):
            return value
        if value.tzinfo is None:
            raise ValueError(f"{self.name}: naive datetime; pass a timezone-aware UTC datetime")
        return _DATETIME_ENCODERS[_field_dialect(self)](value)

    def python_value(self, value: Any) -> Any:
        return decode_datetime(value)


__all__ = [
    "CANONICAL_UUID",
    "UTC",
    "Dialect",
    "UTCDateTimeField",
    "UUIDTextField",
    "UserForeignKeyField",
    "datetime_decoder",
    "datetime_encoder",
    "decode_datetime",
    "decode_sqlite_datetime",
    "dialect_of",
    "format_sqlite_datetime",
    "parse_datetime_text",
    "parse_uuid",
    "to_millis",
    "utcnow",
]
