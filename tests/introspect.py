"""The live schema of a table, normalised so that two databases of one backend can be compared."""

from __future__ import annotations

from typing import Any

from peewee import Database

from peewee_authjs.fields import dialect_of


def _mysql_columns(database: Database, table: str) -> list[tuple[str, str, bool]]:
    cursor = database.execute_sql(
        "SELECT COLUMN_NAME, COLUMN_TYPE, COLLATION_NAME, IS_NULLABLE FROM information_schema.COLUMNS "
        "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s ORDER BY ORDINAL_POSITION",
        (table,),
    )
    return [
        (name, f"{kind} {collation}" if collation else kind, nullable == "YES")
        for name, kind, collation, nullable in cursor.fetchall()
    ]


def describe(database: Database, table: str) -> dict[str, Any]:
    """Columns (name, type, nullable), primary key, foreign keys, indexes and, on MySQL, table options.

    Types are the declared ones (SQLite), ``format_type`` (PostgreSQL), or the
    column type and collation (MySQL). Indexes are keyed by (columns, unique),
    the primary key's own index left out; their names are listed apart.
    """
    dialect = dialect_of(database)
    columns = database.get_columns(table)
    primary_key = [column.name for column in columns if column.primary_key]
    if dialect == "mysql":
        described = _mysql_columns(database, table)
    else:
        described = [(column.name, column.full_type.upper(), column.null) for column in columns]
    indexes = {}
    for index in database.get_indexes(table):
        key = (tuple(index.columns), bool(index.unique))
        if index.unique and list(index.columns) == primary_key:
            continue
        indexes[key] = index.name
    result: dict[str, Any] = {
        "columns": described,
        "primary_key": primary_key,
        "foreign_keys": sorted(
            (fk.column, fk.dest_table, fk.dest_column, fk.on_delete, fk.on_update)
            for fk in database.get_foreign_keys(table)
        ),
        "indexes": set(indexes),
        "index_names": sorted(indexes.values()),
    }
    if dialect == "mysql":
        result["options"] = database.execute_sql(
            "SELECT ENGINE, TABLE_COLLATION FROM information_schema.TABLES "
            "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s",
            (table,),
        ).fetchone()
    return result
