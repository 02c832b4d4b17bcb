"""Which databases the suite runs on, and how to reach them.

SQLite (a file in a temporary folder, opened as ``PeeweeAdapter(url)`` opens it)
always; PostgreSQL and MySQL/MariaDB when their URLs are set:

- ``AUTHJS_TEST_POSTGRES_URL``, e.g. ``postgresql://postgres@127.0.0.1:5432/test``
- ``AUTHJS_TEST_MYSQL_URL``, e.g. ``mysql://root@127.0.0.1:3306/test``

A URL that is set but unreachable fails the tests that use it: it is never a skip.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from peewee import Database

from peewee_authjs.database import open_database

POSTGRES_ENV = "AUTHJS_TEST_POSTGRES_URL"
MYSQL_ENV = "AUTHJS_TEST_MYSQL_URL"

#: Every table the library or the tests create, children first.
ALL_TABLES = (
    "authenticators",
    "accounts",
    "sessions",
    "verification_tokens",
    "users",
    "authjs_migrations",
)


def backend_names() -> list[str]:
    """The backends of this run: sqlite, plus postgres and mysql when their URLs are set."""
    names = ["sqlite"]
    if os.environ.get(POSTGRES_ENV):
        names.append("postgres")
    if os.environ.get(MYSQL_ENV):
        names.append("mysql")
    return names


def backend_url(name: str, tmp_path: Path) -> str:
    """The URL of backend ``name`` (a new SQLite file under ``tmp_path`` for sqlite)."""
    if name == "sqlite":
        return f"sqlite:///{tmp_path / 'auth.db'}"
    env = POSTGRES_ENV if name == "postgres" else MYSQL_ENV
    return os.environ[env]


def quote(database: Database, name: str) -> str:
    """``name`` quoted as an identifier of ``database``'s dialect."""
    return f"{database.quote[0]}{name}{database.quote[1]}"


def drop_all(database: Database) -> None:
    """Drop every table the suite may have made (children first), in any state."""
    for table in ALL_TABLES:
        database.execute_sql(f"DROP TABLE IF EXISTS {quote(database, table)}")


def open_clean(name: str, tmp_path: Path) -> Iterator[Database]:
    """Open backend ``name`` with no Auth.js tables; drop them again afterwards."""
    database = open_database(backend_url(name, tmp_path))
    database.connect()  # fails loudly when a configured server is unreachable
    drop_all(database)
    try:
        yield database
    finally:
        if not database.is_closed():
            if database.in_transaction():
                database.rollback()
            drop_all(database)
            database.close()
