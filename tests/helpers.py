"""Raw database readers, bypassing the adapter, to check what it wrote."""

from __future__ import annotations

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
