"""Faults: a killed writer, a lost server connection and a locked SQLite file lose nothing and hang nowhere."""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import sqlite3
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from peewee import Database
from peewee import PeeweeException

from peewee_authjs import BackendError
from peewee_authjs import ConflictError
from peewee_authjs import PeeweeAdapter
from peewee_authjs.database import open_database
from peewee_authjs.fields import dialect_of
from tests.backends import backend_names
from tests.backends import backend_url
from tests.backends import open_clean
from tests.concurrency import EXPIRES
from tests.concurrency import write_until_killed
from tests.helpers import count
from tests.helpers import rows

WAIT = 60.0


# -- SIGKILL in the middle of a stream of writes ------------------------------------------------


def _report_lines(path: Path) -> list[str]:
    if not path.exists():
        return []
    text = path.read_text(encoding="utf-8")
    return text.splitlines()[: text.count("\n")]  # only complete lines


@pytest.mark.slow
def test_sigkill_mid_writes_keeps_every_returned_write_and_no_half_record(tmp_path: Path) -> None:
    """A writer SIGKILLed three times mid-stream: integrity ok, every returned write there, nothing half-done.

    Sign-ups (user + account + session in one transaction of the caller) are whole or absent,
    ``delete_user`` leaves neither the user nor any of its rows, and no row lacks its user.
    """
    path = tmp_path / "auth.db"
    url = f"sqlite:///{path}"
    setup = PeeweeAdapter(url)
    setup.create_tables()
    setup.database.close()
    report = tmp_path / "report.txt"
    ctx = multiprocessing.get_context("spawn")
    for round_ in range(1, 4):
        writer = ctx.Process(target=write_until_killed, args=(url, str(report)))
        writer.start()
        deadline = time.monotonic() + WAIT
        while len(_report_lines(report)) < 40 * round_ and time.monotonic() < deadline and writer.is_alive():
            time.sleep(0.005)
        assert writer.is_alive(), "the writer stopped before it was killed"
        os.kill(writer.pid or 0, signal.SIGKILL)
        writer.join(WAIT)
        assert writer.exitcode == -signal.SIGKILL

    lines = _report_lines(report)
    assert len(lines) >= 120
    reported: dict[str, set[str]] = {"created": set(), "deleting": set(), "deleted": set()}
    for line in lines:
        verb, user_id = line.split()
        reported[verb].add(user_id)
    created, deleting, deleted = reported["created"], reported["deleting"], reported["deleted"]
    assert created and deleted

    raw = sqlite3.connect(path)
    try:
        assert raw.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert raw.execute("PRAGMA foreign_key_check").fetchall() == []
        users = {row[0] for row in raw.execute("SELECT id FROM users")}
        assert created - deleting <= users, "a sign-up that returned is missing"
        assert not deleted & users, "a delete_user that returned did not stick"
        per_user = raw.execute(
            "SELECT u.id, (SELECT COUNT(*) FROM accounts a WHERE a.user_id = u.id),"
            " (SELECT COUNT(*) FROM sessions s WHERE s.user_id = u.id) FROM users u"
        ).fetchall()
        assert [row for row in per_user if row[1:] != (1, 1)] == [], "a half-written sign-up"
        for table in ("accounts", "sessions"):
            orphans = raw.execute(
                f"SELECT COUNT(*) FROM {table} t LEFT JOIN users u ON t.user_id = u.id WHERE u.id IS NULL"
            ).fetchone()
            assert orphans == (0,), f"{table} without their user"
    finally:
        raw.close()


# -- a server connection that goes away ---------------------------------------------------------

SERVERS = [name for name in backend_names() if name != "sqlite"]


def _server(name: str, tmp_path: Path) -> Iterator[tuple[PeeweeAdapter, Database]]:
    for database in open_clean(name, tmp_path):
        adapter = PeeweeAdapter(database)
        adapter.create_tables()
        other = open_database(backend_url(name, tmp_path))
        try:
            yield adapter, other
        finally:
            other.close()


@pytest.fixture(params=SERVERS)
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[PeeweeAdapter, Database]]:
    """An adapter on a database server, and a second connection to watch it and kill its connection."""
    yield from _server(str(request.param), tmp_path)


@pytest.fixture(params=[name for name in SERVERS if name == "postgres"])
def postgres(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[PeeweeAdapter, Database]]:
    """``server`` on PostgreSQL only (whose deadlock detector a test can time per connection)."""
    yield from _server(str(request.param), tmp_path)


def _kill_connection(database: Database, other: Database) -> None:
    """Kill ``database``'s connection from ``other`` and wait until the server has dropped it."""
    postgres = dialect_of(database) == "postgres"
    if postgres:
        pid = database.execute_sql("SELECT pg_backend_pid()").fetchone()[0]
        other.execute_sql("SELECT pg_terminate_backend(%s)", (pid,))
        alive = "SELECT COUNT(*) FROM pg_stat_activity WHERE pid = %s"
    else:
        pid = database.execute_sql("SELECT CONNECTION_ID()").fetchone()[0]
        other.execute_sql(f"KILL {int(pid)}")
        alive = "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = %s"
    deadline = time.monotonic() + WAIT
    while other.execute_sql(alive, (pid,)).fetchone()[0] and time.monotonic() < deadline:
        time.sleep(0.01)


def _assert_connection_lost(error: BackendError) -> None:
    assert "connection to the database was lost" in str(error)
    assert isinstance(error.__cause__, PeeweeException)


def test_lost_connection_gives_backend_error_and_next_call_reconnects(
    server: tuple[PeeweeAdapter, Database],
) -> None:
    """A connection killed between calls: the next call raises BackendError saying so (and no token), the one after works."""
    adapter, other = server
    user = adapter.create_user({"email": "ada@example.com"})
    token = f"S3CRET-{uuid.uuid4().hex}"
    new_session = {"session_token": token, "user_id": user["id"], "expires": EXPIRES}
    _kill_connection(adapter.database, other)
    with pytest.raises(BackendError) as raised:
        adapter.create_session(new_session)
    _assert_connection_lost(raised.value)
    assert token not in "".join(traceback.format_exception(raised.value))
    assert adapter.get_user(user["id"]) == user
    assert adapter.get_session_and_user(token) is None
    session = adapter.create_session(new_session)
    assert adapter.get_session_and_user(token) == {"session": session, "user": user}


class _Statements(logging.Handler):
    """The SQL the adapter runs (from ``peewee_authjs.sql``); ``on(prefix, hook)`` runs ``hook`` once before it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.seen: list[str] = []
        self.hooks: list[tuple[str, Callable[[], None]]] = []
        self.fired: list[str] = []

    def on(self, prefix: str, hook: Callable[[], None]) -> None:
        self.hooks.append((prefix, hook))

    def emit(self, record: logging.LogRecord) -> None:
        sql = record.getMessage()
        self.seen.append(sql)
        for prefix, hook in self.hooks:
            if sql.startswith(prefix) and prefix not in self.fired:
                self.fired.append(prefix)
                hook()


@contextmanager
def _statements() -> Iterator[_Statements]:
    handler = _Statements()
    sql_logger = logging.getLogger("peewee_authjs.sql")
    level = sql_logger.level
    sql_logger.addHandler(handler)
    sql_logger.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        sql_logger.removeHandler(handler)
        sql_logger.setLevel(level)


def test_connection_lost_inside_delete_user_rolls_back_and_next_call_works(
    server: tuple[PeeweeAdapter, Database],
) -> None:
    """The connection dies between ``delete_user``'s statements: BackendError, nothing deleted, retry works."""
    adapter, other = server
    user = adapter.create_user({"email": "ada@example.com"})
    adapter.link_account(
        {"user_id": user["id"], "type": "oauth", "provider": "github", "provider_account_id": "1"}
    )
    adapter.create_session({"session_token": "tok", "user_id": user["id"], "expires": EXPIRES})
    with _statements() as statements, pytest.raises(BackendError) as raised:
        statements.on("DELETE", lambda: _kill_connection(adapter.database, other))
        adapter.delete_user(user["id"])
    assert statements.fired == ["DELETE"]
    _assert_connection_lost(raised.value)
    assert [count(other, table) for table in ("users", "accounts", "sessions")] == [1, 1, 1]
    assert adapter.delete_user(user["id"]) == user
    assert [count(other, table) for table in ("users", "accounts", "sessions")] == [0, 0, 0]


def test_connection_lost_inside_callers_transaction_commits_nothing_and_next_call_works(
    server: tuple[PeeweeAdapter, Database],
) -> None:
    """The connection dies inside the caller's ``atomic()``: nothing of it is kept, the next call works."""
    adapter, other = server
    db = adapter.database
    with pytest.raises((BackendError, PeeweeException)):
        with db.atomic():
            user = adapter.create_user({"email": "ada@example.com"})
            _kill_connection(db, other)
            adapter.create_session({"session_token": "tok", "user_id": user["id"], "expires": EXPIRES})
    assert count(other, "users") == 0
    assert adapter.get_user_by_email("ada@example.com") is None
    assert adapter.create_user({"email": "ada@example.com"})["email"] == "ada@example.com"
    assert count(other, "users") == 1


# -- deadlocks ---------------------------------------------------------------------------------


def _waiting_for_a_lock(other: Database, pid: int) -> None:
    deadline = time.monotonic() + WAIT
    query = "SELECT COUNT(*) FROM pg_locks WHERE pid = %s AND NOT granted"
    while not other.execute_sql(query, (pid,)).fetchone()[0] and time.monotonic() < deadline:
        time.sleep(0.005)


#: How long the adapter's connection waits for a lock before PostgreSQL looks for a deadlock; the
#: other side waits 30 s, so the adapter's side is the one aborted.
ADAPTER_DEADLOCK_TIMEOUT = "1s"


def _deadlock_from(other: Database, pid: int, first: str, then: str) -> Callable[[], None]:
    """In a thread, ``other`` runs ``first`` in a transaction, waits until ``pid`` waits for a lock, runs ``then``.

    Returns ``finish()``, which waits for the thread and raises what failed in it.
    """
    started = threading.Event()
    failures: list[BaseException] = []

    def run() -> None:
        try:
            other.execute_sql("SET deadlock_timeout = '30s'")
            with other.atomic():
                other.execute_sql(first)
                started.set()
                _waiting_for_a_lock(other, pid)
                other.execute_sql(then)
        except Exception as exc:  # handed to the test by finish()
            failures.append(exc)
        finally:
            started.set()
            other.close()

    thread = threading.Thread(target=run)
    thread.start()
    assert started.wait(WAIT)

    def finish() -> None:
        thread.join(WAIT)
        assert not thread.is_alive()
        if failures:
            raise failures[0]

    return finish


def test_deadlock_outside_a_transaction_is_retried(postgres: tuple[PeeweeAdapter, Database]) -> None:
    """``delete_user`` chosen as a deadlock victim runs again and succeeds: the caller sees no error."""
    adapter, other = postgres
    user = adapter.create_user({"email": "ada@example.com"})
    adapter.create_session({"session_token": "tok", "user_id": user["id"], "expires": EXPIRES})
    db = adapter.database
    db.execute_sql(f"SET deadlock_timeout = '{ADAPTER_DEADLOCK_TIMEOUT}'")
    pid = db.execute_sql("SELECT pg_backend_pid()").fetchone()[0]
    finish = _deadlock_from(
        other,
        pid,
        "UPDATE sessions SET expires = expires WHERE session_token = 'tok'",
        f"SELECT id FROM users WHERE id = '{user['id']}' FOR UPDATE",
    )
    try:
        with _statements() as statements:
            assert adapter.delete_user(user["id"]) == user
    finally:
        finish()
    locks = [sql for sql in statements.seen if sql.startswith("SELECT") and "FOR UPDATE" in sql]
    assert len(locks) == 2, "delete_user was not run again"
    assert count(db, "users") == 0 and count(db, "sessions") == 0


def test_deadlock_inside_callers_transaction_raises_conflict_error(
    postgres: tuple[PeeweeAdapter, Database],
) -> None:
    """Inside the caller's ``atomic()`` a deadlock is ConflictError (the caller retries it all); nothing is kept."""
    adapter, other = postgres
    user = adapter.create_user({"email": "ada@example.com"})
    for token in ("a", "b"):
        adapter.create_session({"session_token": token, "user_id": user["id"], "expires": EXPIRES})
    db = adapter.database
    later = EXPIRES.replace(year=2040)
    with pytest.raises(ConflictError, match="deadlock"):
        with db.atomic():
            db.execute_sql(f"SET LOCAL deadlock_timeout = '{ADAPTER_DEADLOCK_TIMEOUT}'")
            adapter.update_session({"session_token": "a", "expires": later})
            pid = db.execute_sql("SELECT pg_backend_pid()").fetchone()[0]
            finish = _deadlock_from(
                other,
                pid,
                "UPDATE sessions SET expires = expires WHERE session_token = 'b'",
                "UPDATE sessions SET expires = expires WHERE session_token = 'a'",
            )
            try:
                adapter.update_session({"session_token": "b", "expires": later})
            finally:
                finish()
    for token in ("a", "b"):
        found = adapter.get_session_and_user(token)
        assert found is not None and found["session"]["expires"] == EXPIRES


# -- a locked SQLite database -------------------------------------------------------------------


def _within(seconds: float, adapter: PeeweeAdapter, call: Callable[[], Any]) -> Any:
    """``call()``'s result or exception, run in a thread that must finish within ``seconds``."""
    result: dict[str, Any] = {}

    def run() -> None:
        try:
            result["value"] = call()
        except Exception as exc:  # handed back to the test
            result["error"] = exc
        finally:
            adapter.database.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "the call hung on a locked database"
    if "error" in result:
        raise result["error"]
    return result.get("value")


def _locked_inside_a_transaction(adapter: PeeweeAdapter, user_id: str) -> bool:
    """A write refused for the lock inside the caller's transaction; whether the connection is kept after it."""
    db = adapter.database
    with db.atomic():
        assert adapter.get_user(user_id) is not None
        with pytest.raises(BackendError, match="locked by another connection"):
            adapter.create_user({"email": "carol@example.com"})
    connection = db.connection()
    assert adapter.get_user(user_id) is not None
    return db.connection() is connection


def test_locked_sqlite_database_gives_backend_error_after_busy_timeout(tmp_path: Path) -> None:
    """Another connection holds ``BEGIN EXCLUSIVE``: writes raise BackendError after the busy timeout.

    Reads still answer (WAL), a healthy connection is kept (also when the write failed inside the
    caller's transaction), and once the lock is released the same adapter writes again.
    """
    path = tmp_path / "auth.db"
    url = f"sqlite:///{path}"
    adapter = PeeweeAdapter(open_database(url, pragmas={"busy_timeout": 200}, timeout=0.2))
    adapter.create_tables()
    user = adapter.create_user({"email": "ada@example.com"})
    adapter.database.close()
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        for write in (
            lambda: adapter.create_user({"email": "bob@example.com"}),
            lambda: adapter.delete_user(user["id"]),
        ):
            with pytest.raises(BackendError, match="locked by another connection"):
                _within(WAIT, adapter, write)
        assert _within(WAIT, adapter, lambda: adapter.get_user(user["id"])) == user
        assert _within(WAIT, adapter, lambda: _locked_inside_a_transaction(adapter, user["id"])) is True
    finally:
        holder.rollback()
        holder.close()
    assert adapter.delete_user(user["id"]) == user
    assert adapter.create_user({"email": "bob@example.com"})["email"] == "bob@example.com"
    assert rows(adapter.database, "SELECT email FROM users") == [{"email": "bob@example.com"}]
    adapter.database.close()
