"""Migrations: a fresh database gets ``create_tables()``'s schema; Sequelize's tables are adopted."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime
from datetime import timezone
from pathlib import Path
from typing import Any

import pytest
from peewee import Database
from peewee import DatabaseError

from peewee_authjs import MigrationError
from peewee_authjs import PeeweeAdapter
from peewee_authjs.migrate import HISTORY_TABLE
from peewee_authjs.migrate import check
from peewee_authjs.migrate import migrate
from peewee_authjs.migrate import mysql_collation
from peewee_authjs.migrate import revert
from peewee_authjs.migrate import status
from peewee_authjs.migrations import DIRECTORY
from tests import sequelize_tables as sq
from tests.backends import backend_names
from tests.backends import backend_url
from tests.backends import drop_all
from tests.backends import quote
from tests.helpers import count
from tests.helpers import snapshot
from tests.introspect import describe

UTC = timezone.utc
TABLES = ("users", "accounts", "sessions", "verification_tokens", "authenticators")
SEQUELIZE_TABLES = TABLES[:4]
#: Every migration shipped, in order (read from the package folder, not written down here).
NAMES = [path.stem for path in sorted(DIRECTORY.glob("[0-9]*.py"))]
DUPLICATE = "a0000000-0000-4000-8000-0000000000d2"

#: Narrow the ``backend`` fixture to the configured servers (MySQL only, or both servers).
ONLY_MYSQL = pytest.mark.parametrize("backend", [n for n in backend_names() if n == "mysql"], indirect=True)
SERVERS = pytest.mark.parametrize("backend", [n for n in backend_names() if n != "sqlite"], indirect=True)


def schema(database: Database) -> dict[str, dict[str, Any]]:
    """The described schema of the five tables."""
    return {table: describe(database, table) for table in TABLES}


def schema_without_authenticators(database: Database) -> dict[str, dict[str, Any]]:
    """The described schema of Sequelize's four tables."""
    return {table: describe(database, table) for table in SEQUELIZE_TABLES}


def schema_of_create_tables(database: Database) -> dict[str, dict[str, Any]]:
    """What ``PeeweeAdapter(db).create_tables()`` makes, described; the tables are dropped again."""
    PeeweeAdapter(database).create_tables()
    try:
        return schema(database)
    finally:
        drop_all(database)


def sequelize_database(database: Database, backend: str, table_options: str = "") -> None:
    """``database`` as ``sequelize.sync()`` and the JS adapter leave it: its tables and some rows."""
    sq.create_tables(database, backend, table_options)
    sq.insert_rows(database, backend)


@contextmanager
def statements() -> Iterator[list[str]]:
    """The SQL peewee runs inside the block (from the ``peewee`` logger)."""
    captured: list[str] = []

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            message = record.msg
            captured.append(str(message[0] if isinstance(message, tuple) else message))

    logger = logging.getLogger("peewee")
    handler, level = Capture(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield captured
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


# --- a fresh database ------------------------------------------------------------------------


def test_fresh_database_gets_exactly_the_schema_of_create_tables(database: Database) -> None:
    """Every migration applies, and the result equals create_tables(): columns, types, keys, index names."""
    expected = schema_of_create_tables(database)
    assert migrate(database) == NAMES
    assert schema(database) == expected


def test_fresh_database_creates_users_before_the_tables_that_reference_it(database: Database) -> None:
    """CREATE TABLE users comes first (PostgreSQL refuses a reference to a missing table)."""
    with statements() as sql:
        migrate(database)
    created = [s.split()[5].strip('"`') for s in sql if s.startswith("CREATE TABLE IF NOT EXISTS")]
    created = [table for table in created if table != HISTORY_TABLE]
    assert created[0] == "users"
    assert sorted(created) == sorted(TABLES)


def test_second_migrate_changes_nothing(database: Database) -> None:
    """Migrating an up-to-date database applies nothing and runs no DDL."""
    migrate(database)
    before = schema(database)
    with statements() as sql:
        assert migrate(database) == []
    assert not [s for s in sql if s.split()[0].upper() in ("CREATE", "ALTER", "DROP")]
    assert schema(database) == before


def test_status_lists_pending_then_applied_in_utc(database: Database) -> None:
    """status() lists every migration in order: None before, an aware UTC date after."""
    assert status(database) == [(name, None) for name in NAMES]
    start = datetime.now(UTC).replace(microsecond=0)
    migrate(database)
    end = datetime.now(UTC)
    rows = status(database)
    assert [name for name, _ in rows] == NAMES
    for _, applied in rows:
        assert applied is not None and applied.tzinfo is not None
        assert start <= applied <= end


def test_revert_goes_back_to_an_empty_database(database: Database) -> None:
    """revert() through the first migration undoes all, newest first; migrate then starts over."""
    expected = schema_of_create_tables(database)
    migrate(database)
    assert revert(database, NAMES[0]) == list(reversed(NAMES))
    assert not [table for table in TABLES if database.table_exists(table)]
    assert status(database) == [(name, None) for name in NAMES]
    assert migrate(database) == NAMES
    assert schema(database) == expected


def test_revert_of_an_unknown_migration_is_refused(database: Database) -> None:
    """Reverting a migration that was never applied raises MigrationError and changes nothing."""
    migrate(database)
    with pytest.raises(MigrationError, match="9999_nope"):
        revert(database, "9999_nope")
    assert [applied is not None for _, applied in status(database)] == [True] * len(NAMES)


# --- adopting Sequelize's tables -------------------------------------------------------------


def test_adoption_keeps_every_row_readable_through_the_adapter(database: Database, backend: str) -> None:
    """Rows Sequelize wrote survive adoption unchanged and read back right, dates included."""
    sequelize_database(database, backend)
    before = snapshot(database, SEQUELIZE_TABLES)
    assert migrate(database) == NAMES
    assert snapshot(database, SEQUELIZE_TABLES) == before

    adapter = PeeweeAdapter(database)
    assert adapter.get_user(sq.USER_1) == {
        "id": sq.USER_1,
        "name": "Ada",
        "email": "ada@example.com",
        "email_verified": sq.stored(backend, sq.VERIFIED),
        "image": None,
    }
    assert adapter.get_user_by_account("github", "gh-1") == adapter.get_user(sq.USER_1)
    account = adapter.get_account("google", "go-2")
    assert (
        account is not None and account["refresh_token"] == "1//refresh" and account["user_id"] == sq.USER_2
    )
    found = adapter.get_session_and_user(sq.SESSION_TOKEN)
    assert found is not None and found["user"]["id"] == sq.USER_1
    assert found["session"]["expires"] == sq.stored(backend, sq.EXPIRES)
    token = adapter.use_verification_token("bob@example.com", sq.HASHED_TOKEN)
    assert token is not None and token["expires"] == sq.stored(backend, sq.EXPIRES)


def test_adopted_schema_is_ours_but_for_the_documented_differences(database: Database, backend: str) -> None:
    """After adoption the schema equals create_tables()'s, except what docs/migrations.md lists.

    SQLite keeps Sequelize's declarations (VARCHAR(255) tokens, primary keys without
    NOT NULL); MySQL keeps DATETIME in seconds; index names may be Sequelize's.
    """
    expected = schema_of_create_tables(database)
    sequelize_database(database, backend)
    migrate(database)
    adopted = schema(database)
    for table in SEQUELIZE_TABLES:
        columns = []
        for name, kind, null in expected[table]["columns"]:
            if backend == "sqlite" and name in expected[table]["primary_key"]:
                null = True
            if backend == "sqlite" and name in ("access_token", "refresh_token"):
                kind = "VARCHAR(255)"
            if backend == "mysql" and kind == "datetime(3)":
                kind = "datetime"
            columns.append((name, kind, null))
        expected[table]["columns"] = columns
    for table in TABLES:
        names = adopted[table].pop("index_names"), expected[table].pop("index_names")
        if backend != "mysql":
            assert names[0] == names[1], table
        assert adopted[table] == expected[table], table


def test_adopted_accounts_take_tokens_longer_than_255(database: Database, backend: str) -> None:
    """Sequelize's VARCHAR(255) refuses a long token (except on SQLite); after migrate it round-trips."""
    sequelize_database(database, backend)
    long_token = "x" * 4096
    values = {"type": "oauth", "provider": "google", "provider_account_id": "go-long", "user_id": sq.USER_1}
    if backend == "sqlite":  # no length is enforced: why 0005 leaves SQLite's declarations alone
        sq.insert(database, "accounts", id=DUPLICATE, access_token=long_token, **values)
        database.execute_sql(f"DELETE FROM {quote(database, 'accounts')} WHERE id = ?", (DUPLICATE,))
    else:
        with pytest.raises(DatabaseError):
            sq.insert(database, "accounts", id=DUPLICATE, access_token=long_token, **values)
    migrate(database)
    adapter = PeeweeAdapter(database)
    adapter.link_account({**values, "access_token": long_token, "refresh_token": long_token})
    account = adapter.get_account("google", "go-long")
    assert account is not None
    assert account["access_token"] == long_token and account["refresh_token"] == long_token


def test_duplicate_accounts_stop_adoption_before_any_change(database: Database, backend: str) -> None:
    """Rows sharing (provider, provider_account_id) are listed by id, with no secret; nothing changes."""
    sequelize_database(database, backend)
    sq.insert(
        database, "accounts", id=DUPLICATE, type="oauth", provider="github", provider_account_id="gh-1",
        access_token="gho_secret_access", refresh_token="ghr_secret_refresh", user_id=sq.USER_2,
    )  # fmt: skip
    before, before_schema = snapshot(database, SEQUELIZE_TABLES), schema_without_authenticators(database)

    with pytest.raises(MigrationError) as info:
        migrate(database)
    message = str(info.value)
    for expected in (
        "accounts",
        "'github'",
        sq.ACCOUNT_1,
        DUPLICATE,
        sq.USER_1,
        sq.USER_2,
        "nothing was changed",
    ):
        assert expected in message
    for secret in ("gho_secret_access", "ghr_secret_refresh", sq.LONG_TOKEN, "gh-1", "go-2", "google"):
        assert secret not in message
    assert check(database) and "'github'" in check(database)[0]

    assert snapshot(database, SEQUELIZE_TABLES) == before
    assert schema_without_authenticators(database) == before_schema
    assert not database.table_exists("authenticators") and not database.table_exists(HISTORY_TABLE)

    database.execute_sql(
        f"DELETE FROM {quote(database, 'accounts')} WHERE id = {database.param}", (DUPLICATE,)
    )
    assert migrate(database) == NAMES


def test_keys_differing_only_in_case_are_not_duplicates(database: Database, backend: str) -> None:
    """Provider account ids compare exactly (MySQL's _ci collation included): both rows stay, both are found."""
    sequelize_database(database, backend)
    for account_id, key in ((DUPLICATE, "AbC"), ("a0000000-0000-4000-8000-0000000000d3", "abc")):
        sq.insert(
            database,
            "accounts",
            id=account_id,
            type="oauth",
            provider="gitlab",
            provider_account_id=key,
            user_id=sq.USER_2,
        )
    assert check(database) == []
    migrate(database)
    adapter = PeeweeAdapter(database)
    upper, lower = adapter.get_account("gitlab", "AbC"), adapter.get_account("gitlab", "abc")
    assert upper is not None and lower is not None and upper["id"] != lower["id"]


def test_tables_lacking_authjs_columns_are_refused(database: Database, backend: str) -> None:
    """A users table with camelCase columns (custom Sequelize models) is named, with its missing columns."""
    q = lambda name: quote(database, name)  # noqa: E731
    database.execute_sql(
        f"CREATE TABLE {q('users')} ({q('id')} VARCHAR(36) PRIMARY KEY, {q('email')} VARCHAR(255), "
        f"{q('emailVerified')} VARCHAR(40))"
    )
    with pytest.raises(MigrationError, match=r"users .*email_verified"):
        migrate(database)
    assert [table for table in (*TABLES, HISTORY_TABLE) if database.table_exists(table)] == ["users"]


def test_a_failing_migration_is_reported_and_completed_by_a_rerun(database: Database, backend: str) -> None:
    """A migration the database refuses is named; SQLite/PostgreSQL roll it back; a rerun completes it."""
    expected = schema_of_create_tables(database)["sessions"]["indexes"]
    sequelize_database(database, backend)
    # An index of another's making holds the name 0004 gives sessions(expires).
    q = lambda name: quote(database, name)  # noqa: E731
    database.execute_sql(f"CREATE INDEX {q('sessions_expires')} ON {q('sessions')} ({q('session_token')})")
    after = "MySQL cannot roll DDL back.*run migrate again" if backend == "mysql" else "it was rolled back"
    with pytest.raises(MigrationError, match=f"(?s)0004_lookup_indexes failed.*{after}"):
        migrate(database)
    applied = [name for name, when in status(database) if when is not None]
    assert applied == NAMES[: NAMES.index("0004_lookup_indexes")]
    if backend != "mysql":  # 0004 had created sessions(user_id) before it failed: rolled back
        assert ("user_id",) not in {columns for columns, _ in describe(database, "sessions")["indexes"]}
    drop = "DROP INDEX sessions_expires" + (" ON sessions" if backend == "mysql" else "")
    database.execute_sql(drop)
    assert migrate(database) == NAMES[len(applied) :]
    assert describe(database, "sessions")["indexes"] == expected


def test_history_rows_without_a_script_are_listed_and_ignored(database: Database) -> None:
    """A migration recorded by a newer version (its file absent here) shows in status; migrate skips it."""
    migrate(database)
    table = quote(database, HISTORY_TABLE)
    database.execute_sql(
        f"INSERT INTO {table} (name, applied) VALUES ({database.param}, {database.param})",
        ("0099_from_the_future", datetime(2030, 1, 1, 12, 0, 0)),
    )
    rows = status(database)
    assert rows[-1] == ("0099_from_the_future", datetime(2030, 1, 1, 12, 0, 0, tzinfo=UTC))
    assert [name for name, _ in rows[:-1]] == NAMES
    assert migrate(database) == []


# --- MySQL: character set and collation ------------------------------------------------------


@ONLY_MYSQL
def test_mysql_latin1_tables_become_utf8mb4_bin_without_loss(database: Database, backend: str) -> None:
    """Old latin1/COMPACT tables become utf8mb4 (binary, NO PAD)/DYNAMIC: text intact, TEXT still TEXT, keys restored."""
    sequelize_database(database, backend, "DEFAULT CHARSET=latin1 ROW_FORMAT=COMPACT")
    database.execute_sql("UPDATE users SET name = %s WHERE id = %s", ("Zoë Ørsted", sq.USER_1))
    before = snapshot(database, SEQUELIZE_TABLES)
    migrate(database)
    assert snapshot(database, SEQUELIZE_TABLES) == before
    for table in TABLES:
        assert describe(database, table)["options"] == ("InnoDB", mysql_collation(database))
    assert ("id_token", f"text {mysql_collation(database)}", True) in describe(database, "accounts")[
        "columns"
    ]
    formats = database.execute_sql(
        "SELECT DISTINCT ROW_FORMAT FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()"
    ).fetchall()
    assert formats == (("Dynamic",),)  # COMPACT's 767-byte keys could not hold the unique key
    expected_keys = [("user_id", "users", "id", "CASCADE", "CASCADE")]
    assert describe(database, "accounts")["foreign_keys"] == expected_keys
    assert describe(database, "sessions")["foreign_keys"] == expected_keys
    user = PeeweeAdapter(database).get_user(sq.USER_1)
    assert user is not None and user["name"] == "Zoë Ørsted"
    PeeweeAdapter(database).update_user({"id": sq.USER_2, "name": "名前 🙂"})  # utf8mb4 now
    assert count(database, "users", "name = %s", "名前 🙂") == 1


@ONLY_MYSQL
def test_mysql_conversion_failing_halfway_keeps_the_foreign_keys_after_a_rerun(
    database: Database, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """0001 failing after some tables were converted: the rerun ends with both cascading foreign keys.

    The keys onto ``users.id`` are dropped for the conversion; once one table is converted and the
    next is not, they cannot be re-created (the character sets differ), and a process killed there
    never re-creates them at all. The rerun must restore them, or the JS adapter's ``deleteUser``
    (which relies on ON DELETE CASCADE) leaves orphan accounts that block the next sign-in.
    """
    import peewee_authjs.migrate as migrate_module

    sequelize_database(database, backend, "DEFAULT CHARSET=latin1")
    real_execute = migrate_module.execute
    converted: list[str] = []

    def failing_execute(db: Database, sql: str, params: Any = ()) -> None:
        if "CONVERT TO CHARACTER SET" in sql:
            if converted:
                raise DatabaseError("simulated failure of the second conversion")
            converted.append(sql)
        real_execute(db, sql, params)

    monkeypatch.setattr(migrate_module, "execute", failing_execute)
    with pytest.raises(MigrationError, match="0001_mysql_utf8mb4_bin failed"):
        migrate(database)
    monkeypatch.setattr(migrate_module, "execute", real_execute)
    assert migrate(database) == NAMES
    expected_keys = [("user_id", "users", "id", "CASCADE", "CASCADE")]
    assert describe(database, "accounts")["foreign_keys"] == expected_keys
    assert describe(database, "sessions")["foreign_keys"] == expected_keys


@ONLY_MYSQL
def test_mysql_mixed_case_emails_stop_the_conversion(database: Database, backend: str) -> None:
    """An address that is not lowercase would be lost to _bin lookups: refused by user id, unchanged."""
    sequelize_database(database, backend)
    database.execute_sql("UPDATE users SET email = %s WHERE id = %s", ("Bob@Example.com", sq.USER_2))
    before = snapshot(database, SEQUELIZE_TABLES)
    with pytest.raises(MigrationError) as info:
        migrate(database)
    assert sq.USER_2 in str(info.value) and "Bob@Example.com" not in str(info.value)
    assert sq.USER_1 not in str(info.value)
    assert snapshot(database, SEQUELIZE_TABLES) == before
    assert describe(database, "users")["options"][1] != mysql_collation(database)
    database.execute_sql("UPDATE users SET email = LOWER(email)")
    assert migrate(database) == NAMES


@ONLY_MYSQL
def test_mysql_app_tables_referencing_users_stop_the_conversion(database: Database, backend: str) -> None:
    """A table of the app with a foreign key onto a latin1 users.id is named; without the key, migrate runs."""
    sequelize_database(database, backend, "DEFAULT CHARSET=latin1")
    database.execute_sql(
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, buyer CHAR(36) BINARY, "
        "CONSTRAINT orders_buyer FOREIGN KEY (buyer) REFERENCES users (id)) ENGINE=InnoDB DEFAULT CHARSET=latin1"
    )
    try:
        with pytest.raises(MigrationError, match=r"orders\.buyer -> users\.id"):
            migrate(database)
        assert describe(database, "users")["options"][1] == "latin1_swedish_ci"
        database.execute_sql("ALTER TABLE orders DROP FOREIGN KEY orders_buyer")
        assert migrate(database) == NAMES
    finally:
        database.execute_sql("DROP TABLE IF EXISTS orders")


@SERVERS
def test_concurrent_migrates_take_turns(database: Database, backend: str, tmp_path: Path) -> None:
    """Two deploys migrating at once: one applies everything, the other then finds nothing to do."""
    url = backend_url(backend, tmp_path)
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda _: migrate(url), range(2)))
    assert sorted(results, key=len) == [[], NAMES]
    assert [name for name, when in status(database) if when] == NAMES
