"""Auth.js's database-session rules over the adapter, for any web framework.

::

    from peewee_authjs.sessions import SessionManager

    sessions = SessionManager(adapter)
    session = sessions.start(user["id"])                  # at sign-in: a new token, 30 days
    cookie = sessions.cookie(session, secure=True)        # name, value, expires, attributes
    found = sessions.read(cookie_value)                   # per request: {"session", "user"} or None
    sessions.end(cookie_value)                            # sign out

The rules are those of ``@auth/core`` (``lib/actions/session.ts``), so a Next.js
app and a Python app can share the ``sessions`` table and the cookie:

- a sign-in creates a new session whose token is a random uuid4 and whose expiry
  is ``now + max_age`` (30 days by default);
- a session whose expiry lies before now is expired: reading it deletes it and
  reads as no session; a session expiring exactly now is still valid;
- a valid session is extended to ``now + max_age`` when
  ``expires - max_age + update_age <= now``, i.e. at most once per ``update_age``
  (1 day by default; 0 extends on every read): a sliding, idle-timeout session;
- the cookie holds the raw session token: ``authjs.session-token`` (Auth.js v5),
  ``__Secure-`` prefixed on https, HttpOnly, SameSite=Lax, Path=/.

One difference: Auth.js re-sends the cookie on every read with ``now + max_age`` as
its expiry, even when the row was not extended; :meth:`SessionManager.cookie` always
uses the row's expiry, so cookie and row expire together.

Reading a session costs the adapter's one ``get_session_and_user`` statement,
plus one ``UPDATE`` or ``DELETE`` when the session is extended or deleted. Listing and revoking a
user's sessions (not part of the Auth.js contract) query the adapter's bound
``Session`` model.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from datetime import timezone
from typing import Any
from typing import cast
from uuid import uuid4

from peewee_authjs.adapter import PeeweeAdapter
from peewee_authjs.contract import AdapterSession
from peewee_authjs.contract import SessionAndUser
from peewee_authjs.errors import InvalidInputError
from peewee_authjs.errors import NotFoundError
from peewee_authjs.fields import parse_uuid
from peewee_authjs.fields import to_millis
from peewee_authjs.fields import utcnow
from peewee_authjs.queries import Queries
from peewee_authjs.queries import database_errors
from peewee_authjs.queries import expired_before
from peewee_authjs.queries import row_reader
from peewee_authjs.queries import write_transaction
from peewee_authjs.statements import slot

#: Auth.js's default ``session.maxAge``: a session lives 30 days after its last extension.
DEFAULT_MAX_AGE = timedelta(days=30)
#: Auth.js's default ``session.updateAge``: a session is extended at most once a day.
DEFAULT_UPDATE_AGE = timedelta(days=1)

_V5_NAME = "authjs.session-token"
_V4_NAME = "next-auth.session-token"
_SECURE_PREFIX = "__Secure-"

#: Every session cookie name Auth.js uses, in the order to look for them: v5 before
#: v4, and the ``__Secure-`` one (which browsers only accept over https) first.
SESSION_COOKIE_NAMES: tuple[str, ...] = (
    _SECURE_PREFIX + _V5_NAME,
    _V5_NAME,
    _SECURE_PREFIX + _V4_NAME,
    _V4_NAME,
)

Clock = Callable[[], datetime]


def session_cookie_name(*, secure: bool, v4: bool = False) -> str:
    """The session cookie's name: ``authjs.session-token`` (``next-auth.session-token`` for v4),
    prefixed with ``__Secure-`` when the site is served over https (``secure``)."""
    name = _V4_NAME if v4 else _V5_NAME
    return _SECURE_PREFIX + name if secure else name


def find_session_token(cookies: Mapping[str, str], *, secure: bool = False) -> str | None:
    """The session token among a request's ``cookies``, looked up in :data:`SESSION_COOKIE_NAMES`
    order; None when none of them is set (or set empty).

    :param secure: the site is served over https: only the ``__Secure-`` names count, as
        Auth.js reads only its own name there (a plain-http response or a sibling subdomain
        can set an unprefixed cookie, and so choose the session; a prefixed one they cannot).
    """
    for name in SESSION_COOKIE_NAMES:
        if secure and not name.startswith(_SECURE_PREFIX):
            continue
        value = cookies.get(name)
        if value:
            return value
    return None


@dataclass(frozen=True)
class SessionCookie:
    """A cookie to set (the session cookie, or the CSRF cookie), with Auth.js's attributes.

    ``value`` is the raw session token, so the dataclass ``repr`` leaves it out.
    """

    name: str
    value: str
    #: When the browser drops it; None for a browser-session cookie (the CSRF cookie).
    expires: datetime | None
    secure: bool
    http_only: bool = True
    same_site: str = "Lax"
    path: str = "/"

    def set_cookie_options(self) -> dict[str, Any]:
        """The keyword arguments of Flask's and Bottle's ``response.set_cookie(name, value, ...)``."""
        options: dict[str, Any] = {
            "path": self.path,
            "secure": self.secure,
            "httponly": self.http_only,
            "samesite": self.same_site,
        }
        if self.expires is not None:
            options["expires"] = self.expires
        return options

    def __repr__(self) -> str:
        return (
            f"SessionCookie(name={self.name!r}, value=<hidden>, "
            f"expires={self.expires.isoformat() if self.expires else None}, "
            f"secure={self.secure})"
        )


def _as_timedelta(value: timedelta | int | float, name: str) -> timedelta:
    if isinstance(value, bool) or not isinstance(value, (timedelta, int, float)):
        raise InvalidInputError(f"{name}: expected a timedelta or a number of seconds", name)
    delta = value if isinstance(value, timedelta) else timedelta(seconds=value)
    if delta < timedelta(0):
        raise InvalidInputError(f"{name}: must not be negative", name)
    return delta


def now_from(clock: Clock) -> datetime:
    """``clock()`` as an aware UTC datetime truncated to the millisecond (what the tables keep).

    Raises InvalidInputError for a naive datetime: the clock must say which zone it means.
    """
    value = clock()
    if isinstance(value, datetime) and value.tzinfo is timezone.utc and not value.microsecond % 1000:
        return value  # utcnow()'s values: already UTC and to the millisecond
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInputError("clock: must return a timezone-aware datetime", "clock")
    return to_millis(value.astimezone(timezone.utc))


class SessionManager:
    """Auth.js database sessions over an adapter.

    :param adapter: the :class:`~peewee_authjs.PeeweeAdapter` holding the sessions.
    :param max_age: how long a session lives after it was started or last extended
        (a ``timedelta`` or seconds; Auth.js's ``session.maxAge``).
    :param update_age: how often at most a session is extended on read
        (Auth.js's ``session.updateAge``; 0 extends on every read).
    :param clock: returns the current aware datetime (tests pass a controllable one).
    :param generate_token: makes a new session token (Auth.js: ``crypto.randomUUID()``).
    """

    def __init__(
        self,
        adapter: PeeweeAdapter,
        *,
        max_age: timedelta | int | float = DEFAULT_MAX_AGE,
        update_age: timedelta | int | float = DEFAULT_UPDATE_AGE,
        clock: Clock = utcnow,
        generate_token: Callable[[], str] = lambda: str(uuid4()),
    ) -> None:
        self.adapter = adapter
        self.max_age = _as_timedelta(max_age, "max_age")
        if self.max_age <= timedelta(0):
            raise InvalidInputError("max_age: must be positive", "max_age")
        self.update_age = _as_timedelta(update_age, "update_age")
        self.clock = clock
        self.generate_token = generate_token
        self._queries = Queries(adapter)

    def __repr__(self) -> str:
        return f"<SessionManager max_age={self.max_age} update_age={self.update_age}>"

    def now(self) -> datetime:
        """The clock's current time, aware UTC, to the millisecond."""
        return now_from(self.clock)

    # -- the Auth.js rules ------------------------------------------------------------------

    def start(self, user_id: str) -> AdapterSession:
        """Start a new session for the user (sign-in): a new token, expiring at ``now + max_age``.

        Raises NotFoundError when ``user_id`` names no user.
        """
        token = self.generate_token()
        return self.adapter.create_session(
            {"session_token": token, "user_id": user_id, "expires": self.now() + self.max_age}
        )

    def is_expired(self, session: AdapterSession | Mapping[str, Any]) -> bool:
        """Whether ``session`` has expired: its expiry lies before now (one expiring now is valid)."""
        return bool(session["expires"] < self.now())

    def is_due_for_update(self, session: AdapterSession | Mapping[str, Any]) -> bool:
        """Whether a read extends ``session``: ``expires - max_age + update_age <= now``."""
        return bool(session["expires"] - self.max_age + self.update_age <= self.now())

    def read(self, session_token: str | None) -> SessionAndUser | None:
        """The session and its user for a cookie's token, applying Auth.js's rules, or None.

        None for a missing, empty or unknown token. An expired session is deleted and
        reads as None. A session due for an update (see :meth:`is_due_for_update`) is
        extended to ``now + max_age`` and returned with its new expiry.
        """
        if not session_token:
            return None
        found = self.adapter.get_session_and_user(session_token)
        if found is None:
            return None
        session = found["session"]
        now = self.now()
        if session["expires"] < now:
            self._write("delete_session", session_token)
            return None
        if session["expires"] - self.max_age + self.update_age <= now:
            expires = now + self.max_age
            self._write("extend_session", session_token, expires)
            found["session"] = cast(AdapterSession, {**session, "expires": expires})
        return found

    def _write(self, name: str, session_token: str, expires: datetime | None = None) -> None:
        """The read path's one write: extend or delete the session, one statement on every backend
        (the adapter's update/delete would add a SELECT where there is no RETURNING)."""
        S = self.adapter.models.Session
        if expires is None:
            statement = self._queries.get(name, lambda: S.delete().where(S.session_token == slot("token")))
        else:
            statement = self._queries.get(
                name,
                lambda: S.update({S.expires: slot("expires")}).where(S.session_token == slot("token")),
            )
        params = {"token": session_token, "expires": None if expires is None else S.expires.db_value(expires)}
        with database_errors(self.adapter, name):
            statement.run(self._queries.database(), params)

    def end(self, session_token: str | None) -> AdapterSession | None:
        """Sign out: delete the session; the deleted session, or None (idempotent)."""
        if not session_token:
            return None
        return self.adapter.delete_session(session_token)

    def cookie(
        self, session: AdapterSession | Mapping[str, Any], *, secure: bool, v4: bool = False
    ) -> SessionCookie:
        """The cookie that carries ``session``: its token, expiring with it, Auth.js's name and attributes.

        :param secure: the site is served over https (``__Secure-`` prefix, ``Secure`` attribute).
        :param v4: use next-auth v4's name (``next-auth.session-token``).
        """
        return SessionCookie(
            name=session_cookie_name(secure=secure, v4=v4),
            value=session["session_token"],
            expires=session["expires"],
            secure=secure,
        )

    def expired_cookie(self, *, secure: bool, v4: bool = False) -> SessionCookie:
        """A cookie that makes the browser drop the session cookie (empty, expired in 1970)."""
        return SessionCookie(
            name=session_cookie_name(secure=secure, v4=v4),
            value="",
            expires=datetime(1970, 1, 1, tzinfo=timezone.utc),
            secure=secure,
        )

    # -- beyond the contract: a user's sessions ---------------------------------------------

    def _encode_now(self) -> Any:
        return self.adapter.models.Session.expires.db_value(self.now())

    def list_for_user(self, user_id: str) -> list[AdapterSession]:
        """The user's live (unexpired) sessions, newest expiry first; empty for an unknown user.

        Each record has every column but ``session_token``: a list of the user's devices
        is meant for a page, and a page must not carry the other devices' bearer tokens.
        Tell the current session by its ``id`` (``read(token)["session"]["id"]``) and
        revoke by ``id`` (:meth:`revoke`).
        """
        key = parse_uuid(user_id)
        if key is None:
            return []
        S = self.adapter.models.Session
        fields = [f for f in S._meta.sorted_fields if f is not S.session_token]
        keys, decoders = row_reader(fields)
        statement = self._queries.get(
            "sessions_of_user",
            lambda: S.select(*fields).where(S.user == slot("user")).order_by(S.id),
            keys,
            decoders,
        )
        with database_errors(self.adapter, "list_for_user"):
            rows = statement.fetch_all(self._queries.database(), {"user": key})
        # Expiry is compared on the decoded instants, not in SQL: on SQLite the column is text,
        # and text another program wrote with an offset does not sort like the instant.
        now = self.now()
        rows = [row for row in rows if row["expires"] >= now]
        rows.sort(key=lambda row: row["expires"], reverse=True)  # stable: ties stay in id order
        return cast(list[AdapterSession], rows)

    def revoke(self, user_id: str, session_id: str) -> bool:
        """Delete the session with this id if it is one of this user's; whether one was deleted.

        A session of another user is never touched (False), so ``session_id`` may come
        straight from a form.
        """
        user_key = parse_uuid(user_id)
        session_key = parse_uuid(session_id)
        if user_key is None or session_key is None:
            return False
        S = self.adapter.models.Session
        statement = self._queries.get(
            "revoke_session",
            lambda: S.delete().where((S.id == slot("id")) & (S.user == slot("user"))),
        )
        with database_errors(self.adapter, "revoke"):
            return statement.run(self._queries.database(), {"id": session_key, "user": user_key}) > 0

    def revoke_others(self, user_id: str, keep_session_token: str) -> int:
        """Sign out the user's other devices: delete every session of the user but the one
        with ``keep_session_token``; how many were deleted.

        Raises NotFoundError, deleting nothing, when ``keep_session_token`` is not a
        session of this user (so a wrong token can never sign out everything).
        """
        user_key = parse_uuid(user_id)
        if user_key is None or not isinstance(keep_session_token, str) or not keep_session_token:
            raise NotFoundError("revoke_others: keep_session_token is not a session of this user")
        S = self.adapter.models.Session
        owned = self._queries.get(
            "session_of_user",
            lambda: S.select(S.id).where((S.session_token == slot("token")) & (S.user == slot("user"))),
            ["id"],
        )
        others = self._queries.get(
            "revoke_other_sessions",
            lambda: S.delete().where((S.user == slot("user")) & (S.session_token != slot("token"))),
        )
        params = {"user": user_key, "token": keep_session_token}
        with database_errors(self.adapter, "revoke_others"), write_transaction(self.adapter):
            db = self._queries.database()
            if owned.fetch_one(db, params) is None:
                raise NotFoundError("revoke_others: keep_session_token is not a session of this user")
            return others.run(db, params)

    def purge_expired(self) -> int:
        """Delete every expired session (housekeeping; reads delete them lazily too); how many."""
        S = self.adapter.models.Session
        statement = self._queries.get(
            "purge_sessions",
            lambda: S.delete().where(expired_before(S.expires, slot("now"), self._queries.database())),
        )
        with database_errors(self.adapter, "purge_expired"):
            return statement.run(self._queries.database(), {"now": self._encode_now()})


__all__ = [
    "DEFAULT_MAX_AGE",
    "DEFAULT_UPDATE_AGE",
    "SESSION_COOKIE_NAMES",
    "SessionCookie",
    "SessionManager",
    "find_session_token",
    "now_from",
    "session_cookie_name",
]
