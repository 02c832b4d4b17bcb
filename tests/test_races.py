"""Concurrent callers: one winner where there must be one, no lost or orphaned rows, no stray errors.

Every race runs with threads on each backend (one connection per thread) and with
processes on a SQLite file (each process its own ``PeeweeAdapter(url)``); racers are
released together by a barrier.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from peewee import Database

from peewee_authjs import PeeweeAdapter
from tests import concurrency
from tests.backends import backend_names
from tests.backends import backend_url
from tests.concurrency import EXPIRES
from tests.concurrency import Op
from tests.concurrency import Outcome
from tests.concurrency import errors_other_than
from tests.helpers import count

THREADS = 8
PROCESSES = 4


#: (racers, backend): threads on every backend, processes on the SQLite file.
pytestmark = pytest.mark.parametrize(
    ("racers", "backend"),
    [("threads", name) for name in backend_names()]
    + [pytest.param("processes", "sqlite", marks=pytest.mark.slow)],
)


@pytest.fixture
def race(racers: str, backend: str, adapter: PeeweeAdapter, tmp_path: Path) -> Any:
    """``race(op, n, arg)``: the outcomes of ``op`` run by ``n`` concurrent racers (``race.n``)."""

    def run(op: Op, n: int, arg: Any) -> list[Outcome]:
        if racers == "threads":
            return concurrency.race_threads(adapter, op, n, arg)
        return concurrency.race_processes(backend_url(backend, tmp_path), op, n, arg)

    run.n = THREADS if racers == "threads" else PROCESSES  # type: ignore[attr-defined]
    return run


def test_one_verification_token_has_exactly_one_winner(race: Any, adapter: PeeweeAdapter) -> None:
    """Of racers spending one sign-in link, exactly one gets the token, the others None, no error."""
    token = {"identifier": "ada@example.com", "token": "hashed-token", "expires": EXPIRES}
    adapter.create_verification_token(token)
    outcomes = race(concurrency.use_token, race.n, token)
    assert errors_other_than(outcomes) == []
    winners = [value for kind, value in outcomes if value is not None]
    assert winners == [token]
    assert outcomes.count(("ok", None)) == race.n - 1
    assert count(adapter.database, "verification_tokens") == 0


def test_first_sign_in_of_one_account_links_it_once(
    race: Any, adapter: PeeweeAdapter, database: Database
) -> None:
    """Racers linking the same provider account: one row, every other racer gets DuplicateError."""
    user = adapter.create_user({"email": "ada@example.com"})
    outcomes = race(concurrency.link_same_account, race.n, user["id"])
    assert errors_other_than(outcomes, ("DuplicateError",)) == []
    linked = [value for kind, value in outcomes if kind == "ok"]
    assert len(linked) == 1
    assert outcomes.count(("error", "DuplicateError")) == race.n - 1
    assert count(database, "accounts") == 1
    assert adapter.get_account("github", "4242") == linked[0]


def test_two_users_with_one_email_make_one_row(race: Any, adapter: PeeweeAdapter, database: Database) -> None:
    """Racers creating users with the same e-mail: one row, every other racer gets DuplicateError."""
    outcomes = race(concurrency.create_same_email, race.n, "ada@example.com")
    assert errors_other_than(outcomes, ("DuplicateError",)) == []
    created = [value for kind, value in outcomes if kind == "ok"]
    assert len(created) == 1
    assert count(database, "users") == 1
    assert adapter.get_user_by_email("ada@example.com") == created[0]


def test_delete_user_while_signing_in_leaves_no_orphans(
    race: Any, adapter: PeeweeAdapter, database: Database
) -> None:
    """``delete_user`` racing sign-ins: after it, every sign-in gets NotFoundError and no row is left.

    Each sign-in racer stops at its first NotFoundError; none may succeed after it, and
    no session or account may outlive the user (checked with a LEFT JOIN, too).
    """
    user = adapter.create_user({"email": "ada@example.com"})
    arg = {"user_id": user["id"], "rounds": 1000, "wait_for": race.n - 1}
    outcomes = race(concurrency.delete_or_sign_in, race.n, arg)
    assert errors_other_than(outcomes) == []
    assert outcomes[0] == ("ok", user)
    for _kind, calls in outcomes[1:]:
        assert calls[-1] == "NotFoundError", "a sign-in racer never saw the user disappear"
        assert calls.count("NotFoundError") == 1
    assert count(database, "users") == 0
    assert count(database, "sessions") == 0
    assert count(database, "accounts") == 0


def test_concurrent_update_session_last_write_wins(
    race: Any, adapter: PeeweeAdapter, database: Database
) -> None:
    """Racers updating one session all succeed, each sees its own write, the row holds one of them."""
    user = adapter.create_user({"email": "ada@example.com"})
    adapter.create_session({"session_token": "tok", "user_id": user["id"], "expires": EXPIRES})
    outcomes = race(concurrency.update_one_session, race.n, "tok")
    assert errors_other_than(outcomes) == []
    for index, (_kind, session) in enumerate(outcomes):
        assert session["session_token"] == "tok" and session["user_id"] == user["id"]
        assert session["expires"] == EXPIRES + timedelta(minutes=index)
    final = adapter.get_session_and_user("tok")
    assert final is not None
    assert final["session"]["expires"] in {session["expires"] for _, session in outcomes}
    assert count(database, "sessions") == 1
