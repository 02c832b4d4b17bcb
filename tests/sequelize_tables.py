"""Databases as ``@auth/sequelize-adapter`` leaves them: its exact DDL and rows in its formats.

The DDL files in ``tests/data/sequelize/`` are copies of what ``sequelize.sync()``
issued (SQLite, PostgreSQL) or what its MySQL dialect generates, for the
adapter's default models (``@auth/sequelize-adapter`` 2.11.3, sequelize 6.37.8).
"""

from __future__ import annotations

from datetime import datetime
from datetime import timezone
from pathlib import Path
from typing import Any

from peewee import Database

from tests.backends import quote

UTC = timezone.utc
DDL = Path(__file__).parent / "data" / "sequelize"

USER_1 = "6f1c2a3e-1111-4c1a-9a77-0c8c3c1d0001"
USER_2 = "6f1c2a3e-2222-4c1a-9a77-0c8c3c1d0002"
ACCOUNT_1 = "a0000000-0000-4000-8000-000000000001"
ACCOUNT_2 = "a0000000-0000-4000-8000-000000000002"
SESSION_1 = "50000000-0000-4000-8000-000000000001"
VERIFIED = datetime(2024, 5, 6, 7, 8, 9, 123000, UTC)
EXPIRES = datetime(2030, 1, 2, 3, 4, 5, 678000, UTC)
#: A token as long as Sequelize's VARCHAR(255) lets it be.
LONG_TOKEN = "t" * 255
SESSION_TOKEN = "sess-" + "c" * 59
HASHED_TOKEN = "9f" * 32


def create_tables(database: Database, backend: str, table_options: str = "") -> None:
    """Run Sequelize's DDL for ``backend``; ``table_options`` is appended to each MySQL CREATE TABLE."""
    text = (DDL / f"{backend}.sql").read_text()
    code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))
    for statement in (part.strip() for part in code.split(";")):
        if statement:
            database.execute_sql(f"{statement} {table_options}".strip())


def sequelize_date(backend: str, value: datetime) -> Any:
    """``value`` as Sequelize writes it: SQLite text with milliseconds, MySQL text in whole seconds."""
    if backend == "sqlite":
        return value.strftime("%Y-%m-%d %H:%M:%S.") + f"{value.microsecond // 1000:03d} +00:00"
    if backend == "mysql":
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return value


def stored(backend: str, value: datetime) -> datetime:
    """What reading ``value`` back gives: MySQL tables Sequelize made keep whole seconds."""
    return value.replace(microsecond=0) if backend == "mysql" else value


def insert(database: Database, table: str, **values: Any) -> None:
    """Insert one row with raw SQL (nothing of the library involved)."""
    columns = ", ".join(quote(database, column) for column in values)
    marks = ", ".join([database.param] * len(values))
    database.execute_sql(
        f"INSERT INTO {quote(database, table)} ({columns}) VALUES ({marks})", list(values.values())
    )


def insert_rows(database: Database, backend: str) -> None:
    """Two users, their accounts, a session and a verification token, as the JS adapter writes them."""
    date = lambda value: sequelize_date(backend, value)  # noqa: E731
    insert(
        database,
        "users",
        id=USER_1,
        name="Ada",
        email="ada@example.com",
        email_verified=date(VERIFIED),
        image=None,
    )
    insert(
        database,
        "users",
        id=USER_2,
        name="Bob",
        email="bob@example.com",
        email_verified=None,
        image="https://x/b.png",
    )
    insert(
        database, "accounts", id=ACCOUNT_1, type="oauth", provider="github", provider_account_id="gh-1",
        access_token=LONG_TOKEN, refresh_token=None, expires_at=1893553445, token_type="bearer", scope="read:user",
        id_token=None, session_state=None, user_id=USER_1,
    )  # fmt: skip
    insert(
        database, "accounts", id=ACCOUNT_2, type="oidc", provider="google", provider_account_id="go-2",
        access_token="ya29.short", refresh_token="1//refresh", expires_at=None, token_type="Bearer", scope="openid",
        id_token="eyJ.id.token", session_state=None, user_id=USER_2,
    )  # fmt: skip
    insert(
        database, "sessions", id=SESSION_1, expires=date(EXPIRES), session_token=SESSION_TOKEN, user_id=USER_1
    )
    insert(
        database,
        "verification_tokens",
        token=HASHED_TOKEN,
        identifier="bob@example.com",
        expires=date(EXPIRES),
    )
