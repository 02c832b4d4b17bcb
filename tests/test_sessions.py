"""Auth.js's database-session rules (peewee_authjs.sessions) at their boundaries, on every backend."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from datetime import timedelta
from datetime import timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from peewee import DatabaseProxy

from peewee_authjs import PeeweeAdapter
from peewee_authjs.database import open_database
from peewee_authjs.errors import InvalidInputError
from peewee_authjs.errors import NotFoundError
from peewee_authjs.sessions import DEFAULT_MAX_AGE
from peewee_authjs.sessions import DEFAULT_UPDATE_AGE
from peewee_authjs.sessions import SESSION_COOKIE_NAMES
from peewee_authjs.sessions import SessionManager
from peewee_authjs.sessions import find_session_token
from peewee_authjs.sessions import session_cookie_name
from tests.clock import START
from tests.clock import Clock
from tests.helpers import count
from tests.helpers import rows

MS = timedelta(milliseconds=1)


@pytest.fixture
def user_id(adapter: PeeweeAdapter) -> str:
    return adapter.create_user({"email": "ada@example.com"})["id"]


def db_expires(adapter: PeeweeAdapter, token: str) -> datetime | None:
    """The stored expiry of a session, read back through the adapter (None when gone)."""
    found = adapter.get_session_and_user(token)
    return None if found is None else found["session"]["expires"]


class StatementLog(logging.Handler):
    """Collects the SQL texts the adapter and the rules run (logger ``peewee_authjs.sql``)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.sql: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.sql.append(record.getMessage())

    @property
    def writes(self) -> list[str]:
        return [s for s in self.sql if s.split()[0].upper() in ("INSERT", "UPDATE", "DELETE")]


@contextmanager
def statements() -> Iterator[StatementLog]:
    logger = logging.getLogger("peewee_authjs.sql")
    handler = StatementLog()
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


# -- cookies ---------------------------------------------------------------------------------


def test_cookie_names_match_authjs_v5_and_v4() -> None:
    """The four names are Auth.js v5's and next-auth v4's, with __Secure- only on https."""
    assert session_cookie_name(secure=False) == "authjs.session-token"
    assert session_cookie_name(secure=True) == "__Secure-authjs.session-token"
    assert session_cookie_name(secure=False, v4=True) == "next-auth.session-token"
    assert session_cookie_name(secure=True, v4=True) == "__Secure-next-auth.session-token"
    assert sorted(SESSION_COOKIE_NAMES) == sorted(
        session_cookie_name(secure=s, v4=v) for s in (True, False) for v in (True, False)
    )


def test_find_session_token_prefers_secure_then_v5() -> None:
    """The lookup order is __Secure- v5, v5, __Secure- v4, v4; empty values are skipped."""
    cookies = {
        "next-auth.session-token": "v4",
        "authjs.session-token": "v5",
        "__Secure-authjs.session-token": "",
    }
    assert find_session_token(cookies) == "v5"
    assert find_session_token({"next-auth.session-token": "v4"}) == "v4"
    assert (
        find_session_token({"__Secure-next-auth.session-token": "s4", "next-auth.session-token": "v4"})
        == "s4"
    )
    assert find_session_token({"other": "x"}) is None


def test_find_session_token_on_https_reads_only_secure_names() -> None:
    """secure=True (an https site): only the __Secure- names count, since a plain-http response
    or a sibling subdomain can set an unprefixed cookie and pick the session; v5 before v4."""
    injected = {"authjs.session-token": "planted", "next-auth.session-token": "planted4"}
    assert find_session_token(injected, secure=True) is None
    assert find_session_token({**injected, "__Secure-next-auth.session-token": "s4"}, secure=True) == "s4"
    both = {**injected, "__Secure-next-auth.session-token": "s4", "__Secure-authjs.session-token": "s5"}
    assert find_session_token(both, secure=True) == "s5"
    assert find_session_token(injected, secure=False) == "planted"


def test_cookie_carries_token_expiry_and_authjs_attributes(sessions: SessionManager, user_id: str) -> None:
    """The cookie holds the raw token, expires with the session, and is HttpOnly, Lax, Path=/."""
    session = sessions.start(user_id)
    cookie = sessions.cookie(session, secure=True)
    assert cookie.name == "__Secure-authjs.session-token"
    assert cookie.value == session["session_token"]
    assert cookie.expires == session["expires"]
    assert (cookie.secure, cookie.http_only, cookie.same_site, cookie.path) == (True, True, "Lax", "/")
    plain = sessions.cookie(session, secure=False, v4=True)
    assert (plain.name, plain.secure) == ("next-auth.session-token", False)
    assert session["session_token"] not in repr(cookie)


def test_expired_cookie_is_empty_and_in_the_past(sessions: SessionManager) -> None:
    """The sign-out cookie has the same name, no value and an expiry long past."""
    cookie = sessions.expired_cookie(secure=False)
    assert cookie.name == "authjs.session-token"
    assert cookie.value == ""
    assert cookie.expires < START


# -- configuration ---------------------------------------------------------------------------


def test_defaults_are_authjs_defaults(adapter: PeeweeAdapter) -> None:
    """max_age is 30 days and update_age 1 day unless given; seconds are accepted too."""
    manager = SessionManager(adapter)
    assert (manager.max_age, manager.update_age) == (DEFAULT_MAX_AGE, DEFAULT_UPDATE_AGE)
    assert DEFAULT_MAX_AGE == timedelta(seconds=2592000)
    assert DEFAULT_UPDATE_AGE == timedelta(seconds=86400)
    seconds = SessionManager(adapter, max_age=3600, update_age=0)
    assert (seconds.max_age, seconds.update_age) == (timedelta(hours=1), timedelta(0))


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"max_age": 0}, "max_age"),
        ({"max_age": timedelta(seconds=-1)}, "max_age"),
        ({"update_age": -1}, "update_age"),
        ({"max_age": "30d"}, "max_age"),
        ({"update_age": True}, "update_age"),
    ],
)
def test_bad_ages_are_refused(adapter: PeeweeAdapter, kwargs: dict[str, object], field: str) -> None:
    """A non-positive max_age, a negative update_age or a non-duration raise, naming the setting."""
    with pytest.raises(InvalidInputError) as info:
        SessionManager(adapter, **kwargs)  # type: ignore[arg-type]
    assert info.value.field == field


def test_a_naive_clock_is_refused(adapter: PeeweeAdapter, user_id: str) -> None:
    """A clock returning naive datetimes is an error, not a silent zone guess; nothing is written."""
    manager = SessionManager(adapter, clock=lambda: datetime(2026, 1, 1))
    with pytest.raises(InvalidInputError):
        manager.start(user_id)
    assert count(adapter.database, "sessions") == 0


def test_clock_is_truncated_to_milliseconds(adapter: PeeweeAdapter, user_id: str) -> None:
    """Microseconds of the clock are dropped, as the tables keep milliseconds."""
    clock = Clock(START + timedelta(microseconds=1999))
    session = SessionManager(adapter, clock=clock).start(user_id)
    assert session["expires"] == START + MS + DEFAULT_MAX_AGE


# -- start -----------------------------------------------------------------------------------


def test_start_makes_a_new_uuid_token_per_sign_in(
    adapter: PeeweeAdapter, sessions: SessionManager, user_id: str
) -> None:
    """Each sign-in gets its own uuid4 token and expires at now + max_age; the row is stored."""
    first = sessions.start(user_id)
    second = sessions.start(user_id)
    assert first["session_token"] != second["session_token"]
    assert uuid.UUID(first["session_token"]).version == 4
    assert first["expires"] == START + DEFAULT_MAX_AGE
    assert first["user_id"] == user_id
    assert count(adapter.database, "sessions", "user_id = ?", user_id) == 2


def test_start_uses_the_token_generator(adapter: PeeweeAdapter, clock: Clock, user_id: str) -> None:
    """generate_token is Auth.js's generateSessionToken: its value becomes the token."""
    manager = SessionManager(adapter, clock=clock, generate_token=lambda: "fixed-token")
    assert manager.start(user_id)["session_token"] == "fixed-token"
    assert db_expires(adapter, "fixed-token") == START + DEFAULT_MAX_AGE


def test_start_for_an_unknown_user_fails_and_writes_nothing(
    adapter: PeeweeAdapter, sessions: SessionManager
) -> None:
    """A session for a user that does not exist is refused (NotFoundError)."""
    with pytest.raises(NotFoundError):
        sessions.start(str(uuid.uuid4()))
    assert count(adapter.database, "sessions") == 0


# -- read: expiry and extension ---------------------------------------------------------------


@pytest.mark.parametrize("token", [None, "", "no-such-token", "x" * 300])
def test_read_of_missing_or_unknown_token_is_none(
    sessions: SessionManager, user_id: str, token: str | None
) -> None:
    """No cookie, an empty one, an unknown or an over-long token all read as no session."""
    sessions.start(user_id)
    assert sessions.read(token) is None


def test_read_returns_session_and_user(sessions: SessionManager, user_id: str) -> None:
    """A live session reads as {session, user} with the user's record."""
    session = sessions.start(user_id)
    found = sessions.read(session["session_token"])
    assert found is not None
    assert found["session"] == session
    assert found["user"]["id"] == user_id
    assert found["user"]["email"] == "ada@example.com"


def test_session_expiring_exactly_now_is_still_valid(
    adapter: PeeweeAdapter, sessions: SessionManager, clock: Clock, user_id: str
) -> None:
    """Auth.js expires a session only when expires < now: at expires == now it is read (and extended)."""
    session = sessions.start(user_id)
    clock.set(session["expires"])
    found = sessions.read(session["session_token"])
    assert found is not None
    assert found["session"]["expires"] == clock.now + DEFAULT_MAX_AGE
    assert db_expires(adapter, session["session_token"]) == clock.now + DEFAULT_MAX_AGE


def test_expired_session_is_deleted_and_reads_as_none(
    adapter: PeeweeAdapter, sessions: SessionManager, clock: Clock, user_id: str
) -> None:
    """One millisecond after its expiry a session reads as None and its row is gone."""
    session = sessions.start(user_id)
    other = sessions.start(user_id)
    clock.set(session["expires"] + MS)
    assert sessions.read(session["session_token"]) is None
    assert count(adapter.database, "sessions", "session_token = ?", session["session_token"]) == 0
    assert count(adapter.database, "sessions", "session_token = ?", other["session_token"]) == 1


def test_no_extension_just_before_update_age(
    adapter: PeeweeAdapter, sessions: SessionManager, clock: Clock, user_id: str
) -> None:
    """Less than update_age after the last extension the stored expiry stays as it was."""
    session = sessions.start(user_id)
    clock.advance(DEFAULT_UPDATE_AGE - MS)
    found = sessions.read(session["session_token"])
    assert found is not None
    assert found["session"]["expires"] == session["expires"]
    assert db_expires(adapter, session["session_token"]) == session["expires"]


def test_extension_exactly_at_update_age(
    adapter: PeeweeAdapter, sessions: SessionManager, clock: Clock, user_id: str
) -> None:
    """At expires - max_age + update_age == now the session is pushed to now + max_age."""
    session = sessions.start(user_id)
    now = clock.advance(DEFAULT_UPDATE_AGE)
    found = sessions.read(session["session_token"])
    assert found is not None
    assert found["session"]["expires"] == now + DEFAULT_MAX_AGE
    assert db_expires(adapter, session["session_token"]) == now + DEFAULT_MAX_AGE


def test_update_age_zero_extends_on_every_read(adapter: PeeweeAdapter, clock: Clock, user_id: str) -> None:
    """With update_age 0 each read, even a millisecond later, moves the expiry to now + max_age."""
    manager = SessionManager(adapter, clock=clock, update_age=0)
    session = manager.start(user_id)
    for _ in range(3):
        now = clock.advance(MS)
        found = manager.read(session["session_token"])
        assert found is not None
        assert db_expires(adapter, session["session_token"]) == now + DEFAULT_MAX_AGE


def test_sliding_session_survives_regular_use(adapter: PeeweeAdapter, clock: Clock, user_id: str) -> None:
    """Read every 20 days, a 30-day session lives on; left 30 days + 1 ms unread, it ends."""
    manager = SessionManager(adapter, clock=clock)
    token = manager.start(user_id)["session_token"]
    for _ in range(5):
        clock.advance(timedelta(days=20))
        assert manager.read(token) is not None
    clock.advance(DEFAULT_MAX_AGE + MS)
    assert manager.read(token) is None


def test_read_costs_one_statement_and_at_most_one_write(
    sessions: SessionManager, clock: Clock, user_id: str
) -> None:
    """A fresh read is the adapter's single JOIN; an extending or expiring read adds exactly one
    statement, an UPDATE or a DELETE, on every backend."""
    token = sessions.start(user_id)["session_token"]
    with statements() as log:
        sessions.read(token)
    assert len(log.sql) == 1 and not log.writes
    clock.advance(DEFAULT_UPDATE_AGE)
    with statements() as log:
        sessions.read(token)
    assert len(log.writes) == 1 and log.writes[0].upper().startswith("UPDATE")
    assert len(log.sql) == 2
    clock.advance(DEFAULT_MAX_AGE + MS)
    with statements() as log:
        assert sessions.read(token) is None
    assert len(log.sql) == 2 and len(log.writes) == 1 and log.writes[0].upper().startswith("DELETE")


@settings(max_examples=40, deadline=None)
@given(
    steps=st.lists(st.integers(min_value=0, max_value=40 * 24 * 3600 * 1000), min_size=1, max_size=12),
    update_age_s=st.sampled_from([0, 1, 3600, 86400, 10 * 86400]),
)
def test_extension_rule_matches_a_model(steps: list[int], update_age_s: int) -> None:
    """Over random read times, the stored expiry and the read result follow Auth.js's rule exactly:
    expired when expires < now (then gone for good), else extended iff expires - max_age + update_age <= now."""
    adapter = PeeweeAdapter("sqlite:///:memory:")
    adapter.create_tables()
    clock = Clock()
    max_age = timedelta(days=30)
    update_age = timedelta(seconds=update_age_s)
    manager = SessionManager(adapter, clock=clock, max_age=max_age, update_age=update_age)
    user = adapter.create_user({"email": "model@example.com"})
    token = manager.start(user["id"])["session_token"]
    expected: datetime | None = START + max_age
    for step in steps:
        now = clock.advance(timedelta(milliseconds=step))
        found = manager.read(token)
        if expected is not None and expected < now:
            expected = None
        elif expected is not None and expected - max_age + update_age <= now:
            expected = now + max_age
        assert (None if found is None else found["session"]["expires"]) == expected
        assert db_expires(adapter, token) == expected
    adapter.database.close()


# -- end, list, revoke -------------------------------------------------------------------------


def test_end_deletes_and_is_idempotent(
    adapter: PeeweeAdapter, sessions: SessionManager, user_id: str
) -> None:
    """Sign-out deletes the session and returns it; again, or with no token, it returns None."""
    session = sessions.start(user_id)
    assert sessions.end(session["session_token"]) == session
    assert sessions.read(session["session_token"]) is None
    assert sessions.end(session["session_token"]) is None
    assert sessions.end(None) is None
    assert sessions.end("") is None
    assert count(adapter.database, "sessions") == 0


def test_list_for_user_carries_no_tokens(sessions: SessionManager, user_id: str) -> None:
    """The device list is for a page: ids and expiries, never the other devices' bearer tokens."""
    tokens = {sessions.start(user_id)["session_token"] for _ in range(2)}
    listed = sessions.list_for_user(user_id)
    assert len(listed) == 2
    assert all("session_token" not in s for s in listed)
    assert not any(token in repr(listed) for token in tokens)


def test_list_for_user_returns_live_sessions_newest_expiry_first(
    adapter: PeeweeAdapter, sessions: SessionManager, clock: Clock, user_id: str
) -> None:
    """Only the user's unexpired sessions are listed (one expiring now included), latest expiry first."""
    other_user = adapter.create_user({"email": "bob@example.com"})["id"]
    old = sessions.start(user_id)
    clock.advance(timedelta(days=10))
    middle = sessions.start(user_id)
    clock.advance(timedelta(days=10))
    newest = sessions.start(user_id)
    sessions.start(other_user)
    assert [s["id"] for s in sessions.list_for_user(user_id)] == [newest["id"], middle["id"], old["id"]]
    listed = sessions.list_for_user(user_id)[0]
    assert listed == {key: value for key, value in newest.items() if key != "session_token"}
    clock.set(old["expires"])
    assert len(sessions.list_for_user(user_id)) == 3
    clock.advance(MS)
    assert [s["id"] for s in sessions.list_for_user(user_id)] == [newest["id"], middle["id"]]


@pytest.mark.parametrize("bad", ["not-a-uuid", str(uuid.uuid4()), ""])
def test_list_for_unknown_user_is_empty(sessions: SessionManager, user_id: str, bad: str) -> None:
    """An unknown user or a malformed id lists nothing."""
    sessions.start(user_id)
    assert sessions.list_for_user(bad) == []


def test_revoke_deletes_only_the_users_own_session(
    adapter: PeeweeAdapter, sessions: SessionManager, user_id: str
) -> None:
    """A user can revoke their session by id; another user's session id is refused and kept."""
    other_user = adapter.create_user({"email": "mallory@example.com"})["id"]
    mine = sessions.start(user_id)
    theirs = sessions.start(other_user)
    assert sessions.revoke(user_id, theirs["id"]) is False
    assert sessions.read(theirs["session_token"]) is not None
    assert sessions.revoke(user_id, mine["id"]) is True
    assert sessions.read(mine["session_token"]) is None
    assert sessions.revoke(user_id, mine["id"]) is False
    assert sessions.revoke(user_id, "not-a-uuid") is False
    assert sessions.revoke("not-a-uuid", theirs["id"]) is False
    assert count(adapter.database, "sessions") == 1


def test_revoke_others_keeps_current_and_other_users(
    adapter: PeeweeAdapter, sessions: SessionManager, user_id: str
) -> None:
    """'Sign out other devices' deletes the user's other sessions only: the current one and
    other users' sessions stay."""
    other_user = adapter.create_user({"email": "bob@example.com"})["id"]
    current = sessions.start(user_id)
    sessions.start(user_id)
    sessions.start(user_id)
    theirs = sessions.start(other_user)
    assert sessions.revoke_others(user_id, current["session_token"]) == 2
    remaining = rows(adapter.database, "SELECT session_token FROM sessions ORDER BY session_token")
    assert sorted(r["session_token"] for r in remaining) == sorted(
        [current["session_token"], theirs["session_token"]]
    )
    assert sessions.revoke_others(user_id, current["session_token"]) == 0


@pytest.mark.parametrize("keep", ["theirs", "unknown", ""])
def test_revoke_others_with_a_foreign_token_deletes_nothing(
    adapter: PeeweeAdapter, sessions: SessionManager, user_id: str, keep: str
) -> None:
    """When the token to keep is not one of the user's sessions nothing is deleted (NotFoundError):
    a wrong token must not sign the user out everywhere."""
    other_user = adapter.create_user({"email": "bob@example.com"})["id"]
    sessions.start(user_id)
    theirs = sessions.start(other_user)
    token = {"theirs": theirs["session_token"], "unknown": "no-such-token", "": ""}[keep]
    with pytest.raises(NotFoundError):
        sessions.revoke_others(user_id, token)
    assert count(adapter.database, "sessions") == 2


def test_purge_expired_deletes_only_expired(
    adapter: PeeweeAdapter, sessions: SessionManager, clock: Clock, user_id: str
) -> None:
    """Housekeeping removes sessions whose expiry lies before now, and keeps the rest."""
    old = sessions.start(user_id)
    clock.advance(timedelta(days=1))
    young = sessions.start(user_id)
    clock.set(old["expires"])
    assert sessions.purge_expired() == 0
    clock.advance(MS)
    assert sessions.purge_expired() == 1
    assert sessions.read(young["session_token"]) is not None


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_purge_expired_reads_sqlite_dates_written_with_an_offset(
    adapter: PeeweeAdapter, sessions: SessionManager, clock: Clock, user_id: str
) -> None:
    """A live session whose text (written by another program) has a negative offset is kept; an expired one goes.

    ``2026-03-01 08:00:00.000-05:00`` is 13:00 UTC: its text sorts before ``12:00 +00:00``, its instant after.
    """
    live = sessions.start(user_id)
    dead = sessions.start(user_id)
    minus_five = timezone(timedelta(hours=-5))
    for session, instant in ((live, START + timedelta(hours=1)), (dead, START - timedelta(hours=1))):
        text = instant.astimezone(minus_five).isoformat(" ", "milliseconds")
        adapter.database.execute_sql(
            "UPDATE sessions SET expires = ? WHERE session_token = ?", (text, session["session_token"])
        )
    clock.set(START)
    assert sessions.purge_expired() == 1
    found = adapter.get_session_and_user(live["session_token"])
    assert found is not None and found["session"]["expires"] == START + timedelta(hours=1)
    assert adapter.get_session_and_user(dead["session_token"]) is None


def test_tokens_never_reach_the_logs(
    sessions: SessionManager, clock: Clock, user_id: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Starting, reading, extending, listing and revoking log SQL texts only, never a session token."""
    with caplog.at_level(logging.DEBUG):
        current = sessions.start(user_id)
        other = sessions.start(user_id)
        clock.advance(DEFAULT_UPDATE_AGE)
        sessions.read(current["session_token"])
        sessions.list_for_user(user_id)
        sessions.revoke_others(user_id, current["session_token"])
        sessions.end(current["session_token"])
    text = caplog.text
    assert "sessions" in text  # SQL was logged
    for token in (current["session_token"], other["session_token"]):
        assert token not in text


def test_datetimes_are_aware_utc(sessions: SessionManager, user_id: str) -> None:
    """Every expiry handed out is timezone-aware UTC."""
    session = sessions.start(user_id)
    listed = sessions.list_for_user(user_id)[0]
    for value in (session["expires"], listed["expires"]):
        assert value.tzinfo is not None and value.utcoffset() == timedelta(0)
    assert listed["expires"].astimezone(timezone.utc) == session["expires"]


def test_tampered_cookie_reads_as_none_and_harms_nothing(
    adapter: PeeweeAdapter, sessions: SessionManager, user_id: str
) -> None:
    """A cookie value with one character changed, cut short or padded is no session, and the real
    session is neither deleted nor extended by the attempt."""
    session = sessions.start(user_id)
    token = session["session_token"]
    for forged in (token[:-1] + ("0" if token[-1] != "0" else "1"), token[:-1], token + "0", token.upper()):
        assert sessions.read(forged) is None
        assert sessions.end(forged) is None
    assert db_expires(adapter, token) == session["expires"]


def test_works_over_a_database_proxy(tmp_path: Path) -> None:
    """An adapter on a peewee DatabaseProxy (initialised later, as apps do) serves every session query."""
    proxy = DatabaseProxy()
    adapter = PeeweeAdapter(proxy)
    proxy.initialize(open_database(f"sqlite:///{tmp_path / 'proxy.db'}"))
    adapter.create_tables()
    manager = SessionManager(adapter, clock=Clock())
    user = adapter.create_user({"email": "proxy@example.com"})
    first = manager.start(user["id"])
    second = manager.start(user["id"])
    assert manager.read(first["session_token"]) is not None
    assert [s["id"] for s in manager.list_for_user(user["id"])] != []
    assert manager.revoke_others(user["id"], first["session_token"]) == 1
    assert manager.read(second["session_token"]) is None
    proxy.close()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_list_for_user_reads_sqlite_dates_written_with_an_offset(
    adapter: PeeweeAdapter, sessions: SessionManager, clock: Clock, user_id: str
) -> None:
    """Listing compares instants, not texts: a live session written as ``...-05:00`` is listed, newest first.

    ``08:00:00.000-05:00`` (13:00 UTC) sorts before ``12:00 +00:00`` as text, but lies after it.
    """
    live = sessions.start(user_id)
    dead = sessions.start(user_id)
    minus_five = timezone(timedelta(hours=-5))
    for session, instant in ((live, START + timedelta(hours=1)), (dead, START - timedelta(hours=1))):
        text = instant.astimezone(minus_five).isoformat(" ", "milliseconds")
        adapter.database.execute_sql(
            "UPDATE sessions SET expires = ? WHERE session_token = ?", (text, session["session_token"])
        )
    later = sessions.start(user_id)  # expires START + max_age: the newest
    clock.set(START)
    listed = sessions.list_for_user(user_id)
    assert [s["id"] for s in listed] == [later["id"], live["id"]]
    assert listed[1]["expires"] == START + timedelta(hours=1)
