"""Raw database readers, bypassing the adapter, to check what it wrote."""

from __future__ import annotations

import uuid
from datetime import datetime
from datetime import timezone
from typing import Any

from peewee import Database

from tests.backends import quote


def rows(database: Database, sql: str, *params: Any) -> list[dict[str, Any]]:
    """The rows of a raw query (``?`` placeholders are rewritten for the dialect), as dicts."""
    sql = sql.replace("?", database.param)
    cursor = database.execute_sql(sql, params)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def count(database: Database, table: str, where: str = "1=1", *params: Any) -> int:
    """How many rows of ``table`` match ``where``."""
    sql = f"SELECT COUNT(*) FROM {quote(database, table)} WHERE {where}".replace("?", database.param)
    return int(database.execute_sql(sql, params).fetchone()[0])


UTC = timezone.utc

#: The columns that hold datetimes, by table.
DATETIME_COLUMNS = {"email_verified", "expires"}

#: Sequelize's SQLite datetime text, to the letter.
SQLITE_DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S.%f %z"


def decode_raw(database: Database, value: Any, column: str) -> Any:
    """A raw column value as the contract states it, decoded without the library's code.

    On SQLite a datetime must be stored exactly as ``YYYY-MM-DD HH:MM:SS.mmm +00:00``.
    """
    if value is None:
        return None
    if column in DATETIME_COLUMNS:
        if isinstance(value, str):
            assert len(value) == 30 and value.endswith(" +00:00"), f"not Sequelize's format: {value!r}"
            return datetime.strptime(value, SQLITE_DATETIME_FORMAT).astimezone(UTC)
        if value.tzinfo is None:  # MySQL DATETIME: naive UTC
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
    if isinstance(value, uuid.UUID):
        return str(value)
    if column == "credential_backed_up":
        return bool(value)
    return value


def read_row(database: Database, table: str, **where: Any) -> dict[str, Any] | None:
    """The one row of ``table`` matching ``where`` (column=value), decoded, or None."""
    clause = " AND ".join(f"{quote(database, column)} = ?" for column in where)
    found = rows(database, f"SELECT * FROM {quote(database, table)} WHERE {clause}", *where.values())
    assert len(found) <= 1, f"{len(found)} rows of {table} match"
    if not found:
        return None
    return {column: decode_raw(database, value, column) for column, value in found[0].items()}


def snapshot(
    database: Database,
    tables: tuple[str, ...] = ("users", "accounts", "sessions", "verification_tokens", "authenticators"),
) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every Auth.js table, sorted: compare two snapshots to prove nothing was written."""
    result = {}
    for table in tables:
        cursor = database.execute_sql(f"SELECT * FROM {quote(database, table)}")
        result[table] = sorted(tuple(str(v) for v in row) for row in cursor.fetchall())
    return result
