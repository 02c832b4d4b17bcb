"""Compiled statements: one statement on the hot path, and correct SQL whatever the models or database."""

from __future__ import annotations

import logging
import sqlite3
import uuid
from collections.abc import Iterator
from datetime import datetime
from datetime import timedelta
from datetime import timezone
from pathlib import Path
from typing import Any

import peewee
import pytest
from peewee import CharField
from peewee import Database
from peewee import DatabaseProxy
from peewee import IntegerField
from peewee import SqliteDatabase

from peewee_authjs import PeeweeAdapter
from peewee_authjs.database import open_database
from peewee_authjs.models import User
from peewee_authjs.statements import Statement
from peewee_authjs.statements import nested_record_builder
from peewee_authjs.statements import record_builder
from peewee_authjs.statements import slot

UTC = timezone.utc
LATER = datetime(2031, 5, 6, 7, 8, 9, 123000, tzinfo=UTC)


class LoyalUser(User):
    """A User with two extra columns, as an application would declare it."""

    nickname = CharField(null=True)
    visits = IntegerField(default=0)


@pytest.fixture
def sql_log(caplog: pytest.LogCaptureFixture) -> Iterator[list[str]]:
    """The SQL texts the adapter runs from now on, as logged on ``peewee_authjs.sql``."""
    caplog.set_level(logging.DEBUG, logger="peewee_authjs.sql")
    caplog.clear()
    statements: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            statements.append(record.getMessage())

    handler = Collect()
    logger = logging.getLogger("peewee_authjs.sql")
    logger.addHandler(handler)
    try:
        yield statements
    finally:
        logger.removeHandler(handler)


def _signed_in(adapter: PeeweeAdapter, **user: Any) -> tuple[dict[str, Any], str]:
    """A user with an account ("github", "gh-1") and a session; the user and the session token."""
    created = adapter.create_user({"email": f"{uuid.uuid4().hex[:8]}@example.com", **user})
    adapter.link_account(
        {"user_id": created["id"], "type": "oauth", "provider": "github", "provider_account_id": "gh-1"}
    )
    token = uuid.uuid4().hex
    adapter.create_session({"session_token": token, "user_id": created["id"], "expires": LATER})
    return dict(created), token


# --- the hot path: statement counts -----------------------------------------------------------


def test_get_session_and_user_runs_one_statement(adapter: PeeweeAdapter, sql_log: list[str]) -> None:
    """Found or not, get_session_and_user is exactly one statement (a JOIN); the token is never logged."""
    user, token = _signed_in(adapter)
    sql_log.clear()
    found = adapter.get_session_and_user(token)
    assert found is not None and found["user"] == user and found["session"]["expires"] == LATER
    assert len(sql_log) == 1 and "JOIN" in sql_log[0]
    assert token not in sql_log[0]
    sql_log.clear()
    assert adapter.get_session_and_user("no-such-token") is None
    assert len(sql_log) == 1


def test_get_user_by_account_runs_one_statement(adapter: PeeweeAdapter, sql_log: list[str]) -> None:
    """Found or not, get_user_by_account is exactly one statement (a JOIN)."""
    user, _ = _signed_in(adapter)
    sql_log.clear()
    assert adapter.get_user_by_account("github", "gh-1") == user
    assert len(sql_log) == 1 and "JOIN" in sql_log[0]
    sql_log.clear()
    assert adapter.get_user_by_account("github", "gh-2") is None
    assert len(sql_log) == 1


def test_keys_that_no_row_can_hold_cost_no_statement(adapter: PeeweeAdapter, sql_log: list[str]) -> None:
    """A token longer than its column, or with a NUL, is answered None without asking the database."""
    assert adapter.get_session_and_user("x" * 256) is None
    assert adapter.get_session_and_user("a\x00b") is None
    assert adapter.get_user_by_account("github", "y" * 300) is None
    assert sql_log == []


def test_non_ascii_keys_take_the_full_check(adapter: PeeweeAdapter) -> None:
    """Non-ASCII keys skip the fast path but are looked up all the same (a lone surrogate is None)."""
    user = adapter.create_user({"email": "zoë@example.com"})
    assert adapter.get_user_by_email("ZOË@example.com") == user
    assert adapter.get_user_by_email("zo\udce9@example.com") is None


# --- statements follow the models -------------------------------------------------------------


def test_custom_user_model_is_read_by_the_compiled_joins(database: Database, sql_log: list[str]) -> None:
    """With models={"User": ...}, both JOINs return the extra columns, still in one statement each."""
    adapter = PeeweeAdapter(database, models={"User": LoyalUser})
    adapter.create_tables()
    user, token = _signed_in(adapter, nickname="Ada", visits=3)
    assert user["nickname"] == "Ada" and user["visits"] == 3
    sql_log.clear()
    found = adapter.get_session_and_user(token)
    assert found is not None and found["user"] == user
    assert set(found["session"]) == {"id", "expires", "session_token", "user_id"}
    assert adapter.get_user_by_account("github", "gh-1") == user
    assert len(sql_log) == 2


def test_adapters_with_and_without_custom_models_share_nothing(database: Database) -> None:
    """A default adapter and a custom one on the same tables each read their own columns."""
    custom = PeeweeAdapter(database, models={"User": LoyalUser})
    custom.create_tables()
    plain = PeeweeAdapter(database)
    user, token = _signed_in(custom, nickname="Bo")
    found_plain = plain.get_session_and_user(token)
    found_custom = custom.get_session_and_user(token)
    assert found_plain is not None and "nickname" not in found_plain["user"]
    assert found_custom is not None and found_custom["user"]["nickname"] == "Bo"


# --- statements follow the database -----------------------------------------------------------


def test_two_adapters_on_two_databases(database: Database, tmp_path: Path) -> None:
    """Adapters on two databases (of two dialects when a server is configured) keep their own SQL."""
    other = PeeweeAdapter(f"sqlite:///{tmp_path / 'other.db'}")
    other.create_tables()
    here = PeeweeAdapter(database)
    here.create_tables()
    user_here, token = _signed_in(here)
    user_other = other.create_user({"email": "other@example.com"})
    other.create_session({"session_token": token, "user_id": user_other["id"], "expires": LATER})
    found_here = here.get_session_and_user(token)
    found_other = other.get_session_and_user(token)
    assert found_here is not None and found_here["user"] == user_here
    assert found_other is not None and found_other["user"] == user_other
    assert other.get_user_by_account("github", "gh-1") is None


def test_proxy_initialised_later_and_moved_to_another_database(database: Database, tmp_path: Path) -> None:
    """A DatabaseProxy adapter compiles for the database it finds at call time, and again after
    initialize() points it elsewhere (another SQLite file, then the backend under test)."""
    proxy = DatabaseProxy()
    adapter = PeeweeAdapter(proxy)
    first = open_database(f"sqlite:///{tmp_path / 'first.db'}")
    proxy.initialize(first)
    adapter.create_tables()
    user_first, token = _signed_in(adapter)
    assert adapter.get_session_and_user(token) is not None

    proxy.initialize(database)
    adapter.create_tables()
    assert adapter.get_session_and_user(token) is None
    user_second, token_second = _signed_in(adapter)
    found = adapter.get_session_and_user(token_second)
    assert found is not None and found["user"] == user_second

    proxy.initialize(first)
    found = adapter.get_session_and_user(token)
    assert found is not None and found["user"] == user_first
    first.close()


def test_a_database_class_with_its_own_cursor_is_used(tmp_path: Path) -> None:
    """A SqliteDatabase subclass that overrides cursor() gets every statement through it."""
    opened: list[int] = []

    class Counting(SqliteDatabase):
        def cursor(self, named_cursor: Any = None) -> Any:
            opened.append(1)
            return super().cursor(named_cursor)

    adapter = PeeweeAdapter(Counting(str(tmp_path / "count.db")))
    adapter.create_tables()
    _, token = _signed_in(adapter)
    opened.clear()
    assert adapter.get_session_and_user(token) is not None
    assert opened == [1]


# --- Statement itself ---------------------------------------------------------------------------


@pytest.fixture
def memory() -> Iterator[SqliteDatabase]:
    database = SqliteDatabase(":memory:")
    database.execute_sql("CREATE TABLE t (a TEXT, b TEXT PRIMARY KEY, c INTEGER)")
    database.execute_sql("INSERT INTO t VALUES ('a1', 'b1', 1), ('a2', 'b2', 2), ('a3', 'b3', 3)")
    yield database
    database.close()


def _table(database: Database) -> Any:
    return peewee.Table("t", ("a", "b", "c")).bind(database)


def test_tuple_values_follow_args_order_and_constants_are_kept(memory: SqliteDatabase) -> None:
    """args= names the tuple's order whatever the SQL's; a LIMIT constant stays in place."""
    t = _table(memory)
    query = t.select(t.c).where((t.b == slot("b")) | (t.a == slot("a"))).order_by(t.c).limit(1)
    statement = Statement(memory, query, ["c"], args=("a", "b"))
    assert statement.params(("a3", "b2")) == ("b2", "a3", 1)
    assert statement.fetch_one(memory, ("a3", "b2")) == {"c": 2}
    assert statement.fetch_one(memory, {"a": "a3", "b": "nothing"}) == {"c": 3}


def test_tuple_values_need_args(memory: SqliteDatabase) -> None:
    """A statement made without args= refuses a tuple (it could not know the order)."""
    t = _table(memory)
    statement = Statement(memory, t.select(t.c).where(t.b == slot("b")), ["c"])
    with pytest.raises(TypeError, match="mapping"):
        statement.params(("b1",))
    with pytest.raises(ValueError, match="lacks"):
        Statement(memory, t.select(t.c).where(t.b == slot("b")), ["c"], args=("a",))


def test_driver_errors_become_peewee_errors(memory: SqliteDatabase) -> None:
    """Errors on the direct sqlite3 path are Peewee's classes (the adapter maps those), not sqlite3's."""
    t = _table(memory)
    insert = Statement(memory, t.insert({t.a: slot("a"), t.b: slot("b"), t.c: slot("c")}))
    with pytest.raises(peewee.IntegrityError) as error:
        insert.run(memory, {"a": "x", "b": "b1", "c": 9})
    assert not isinstance(error.value, sqlite3.Error)
    assert "UNIQUE constraint failed" in str(error.value)


def test_record_builder_takes_any_column_name() -> None:
    """Keys with quotes, backslashes or newlines are keys, not code; decoders see no None."""
    keys = ["plain", "it's", 'say "hi"', "back\\slash", "new\nline"]
    build = record_builder(keys, {"plain": lambda v: v * 2, "new\nline": lambda v: v + 1})
    assert build(("ab", 1, 2, 3, 4)) == dict(zip(keys, ["abab", 1, 2, 3, 5], strict=True))
    assert build((None, 1, 2, 3, None))["plain"] is None


def test_nested_record_builder_splits_a_row() -> None:
    """The columns of each part, in order, form that part's record (same keys in two parts are fine)."""
    build = nested_record_builder(
        [("session", ("id", "expires"), {"expires": lambda v: v + timedelta(days=1)}), ("user", ("id",), {})]
    )
    assert build(("s", LATER, "u")) == {
        "session": {"id": "s", "expires": LATER + timedelta(days=1)},
        "user": {"id": "u"},
    }
