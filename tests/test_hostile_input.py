"""Hostile input: any value in any field of any method gives a result or a typed error, never a crash.

Hypothesis draws the arguments of every adapter method: plausible values mixed with
unicode (astral, lone surrogates), NUL bytes, very long strings, SQL fragments, wrong
types, naive, far and offset datetimes, huge and negative integers, bools where
integers go, and unknown or camelCase keys. The rules checked on every example:

- the only exceptions are :class:`InvalidInputError`, :class:`DuplicateError` and
  :class:`NotFoundError` (no driver error, no ``BackendError``, no ``TypeError``);
- after an error every table holds exactly what it held before;
- what a create returns is what a read returns afterwards (strings verbatim).

The database is shared by the examples of a module run (one per backend), so each
example compares snapshots rather than assuming an empty database.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator
from datetime import datetime
from datetime import timedelta
from datetime import timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck
from hypothesis import event
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from peewee import Database

from peewee_authjs import DuplicateError
from peewee_authjs import InvalidInputError
from peewee_authjs import NotFoundError
from peewee_authjs import PeeweeAdapter
from tests.backends import backend_names
from tests.backends import open_clean
from tests.backends import quote

TABLES = ("users", "accounts", "sessions", "verification_tokens", "authenticators")
USER_IDS = ("7d1c3f0e-6a55-4a7e-9a3c-1b2e3f4a5b6c", "0f9e8d7c-6b5a-4c3d-8e1f-2a3b4c5d6e7f")
EXPECTED_ERRORS = (InvalidInputError, DuplicateError, NotFoundError)

SQL_FRAGMENTS = [
    "'; DROP TABLE users; --",
    "Robert'); DROP TABLE sessions;--",
    '" OR ""="',
    "' OR '1'='1",
    "1; DELETE FROM accounts",
    "' UNION SELECT session_token, user_id, expires FROM sessions --",
    "%s",
    "%(id)s",
    "?",
    ":token",
    "$1",
    "\\",
    "\\'",
    "`users`",
    "/* */ --",
    "%",
    "_",
    "\\x00",
]

# -- strategies ---------------------------------------------------------------------------------

_offsets = st.builds(timezone, st.timedeltas(min_value=timedelta(hours=-23), max_value=timedelta(hours=23)))
texts = st.one_of(
    st.text(max_size=30),  # any unicode, astral planes included
    st.text(st.characters(categories=["Cs", "Lu", "So"]), min_size=1, max_size=5),  # lone surrogates
    st.sampled_from(SQL_FRAGMENTS),
    st.text(max_size=5).map(lambda text: text + "\x00" + text),
    st.integers(250, 260).map(lambda n: "é" * n),
    st.sampled_from(["x" * 65535, "x" * 65536, "\U0001f600" * 16384, "İ" * 255]),
)
datetimes = st.one_of(
    st.datetimes(timezones=st.just(timezone.utc)),
    st.datetimes(timezones=_offsets),
    st.datetimes(),  # naive
    st.datetimes(min_value=datetime(9990, 1, 1), timezones=_offsets),  # far future, near the edge
)
integers = st.one_of(
    st.integers(-(2**31), 2**31),
    st.integers(),
    st.sampled_from([-1, 0, 2**32 - 1, 2**32, 2**63, -(2**63) - 1]),
)
anything = st.one_of(
    st.none(),
    st.booleans(),
    integers,
    st.floats(),
    texts,
    st.binary(max_size=8),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    datetimes,
    st.uuids(),
)


def either(*choices: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """One of ``choices``, each as likely (``st.one_of`` would flatten nested choices and weigh by branch)."""
    return st.sampled_from(choices).flatmap(lambda choice: choice)


def hostile(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly a plausible value, sometimes a hostile string or anything at all."""
    return either(valid, valid, texts, anything)


def pooled(*pool: str) -> st.SearchStrategy[str]:
    """Any text, or one of a few values that other examples write too (so lookups and deletes hit rows)."""
    return st.one_of(st.sampled_from(pool), st.sampled_from(SQL_FRAGMENTS), st.text(max_size=30))


def record(required: dict[str, Any], optional: dict[str, Any]) -> st.SearchStrategy[Any]:
    """A plausible record; or one with a key made hostile, unknown or missing; or anything at all."""
    valid = st.fixed_dictionaries(required, optional=optional)
    keys = sorted({*required, *optional, *EXTRA_KEYS})
    poisoned = st.tuples(valid, st.sampled_from(keys), st.one_of(texts, anything)).map(
        lambda drawn: {**drawn[0], drawn[1]: drawn[2]}
    )
    variants = [valid, valid, poisoned, anything]
    if required:
        variants.append(
            st.tuples(valid, st.sampled_from(sorted(required))).map(
                lambda drawn: {k: v for k, v in drawn[0].items() if k != drawn[1]}
            )
        )
    return either(*variants)


DISPOSABLE_IDS = ("5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d", "9e8d7c6b-5a49-4382-b716-a5b4c3d2e1f0")
EXTRA_KEYS = ("userId", "sessionToken", "emailVerified", "providerAccountId", "not_a_column")
valid_instants = st.datetimes(
    min_value=datetime(1000, 1, 2),
    max_value=datetime(9999, 12, 29),
    timezones=st.one_of(st.just(timezone.utc), _offsets),
)
user_ids = st.one_of(st.sampled_from(USER_IDS + DISPOSABLE_IDS), st.uuids().map(str))
emails = st.one_of(st.none(), pooled("ada@example.io", "ADA@example.io", f"{USER_IDS[0]}@example.io"))
providers = pooled("github", "google")
account_ids = pooled("1", "42")
session_tokens = pooled("tok", "tok-2")
identifiers = pooled("ada@example.io", "bob@example.io")
credentials = pooled("cred", "cred-2")
optional_text = st.one_of(st.none(), st.text(max_size=30))

users = record(
    {},
    {
        "id": st.one_of(st.sampled_from(DISPOSABLE_IDS), st.uuids().map(str)),
        "name": optional_text,
        "email": emails,
        "email_verified": st.one_of(st.none(), valid_instants),
        "image": optional_text,
    },
)
accounts = record(
    {
        "user_id": user_ids,
        "type": st.sampled_from(["oauth", "oidc", "email"]),
        "provider": providers,
        "provider_account_id": account_ids,
    },
    {
        "id": st.uuids().map(str),
        "refresh_token": optional_text,
        "access_token": optional_text,
        "expires_at": st.integers(-(2**31), 2**31 - 1),
        "token_type": optional_text,
        "scope": optional_text,
        "id_token": optional_text,
        "session_state": optional_text,
    },
)
sessions = record(
    {"session_token": session_tokens, "user_id": user_ids, "expires": valid_instants},
    {"id": st.uuids().map(str)},
)
tokens = record({"identifier": identifiers, "token": session_tokens, "expires": valid_instants}, {})
authenticators = record(
    {
        "credential_id": credentials,
        "user_id": user_ids,
        "provider_account_id": account_ids,
        "credential_public_key": st.text(max_size=30),
        "counter": st.integers(0, 2**32 - 1),
        "credential_device_type": st.sampled_from(["singleDevice", "multiDevice"]),
        "credential_backed_up": st.booleans(),
    },
    {"transports": optional_text},
)
user_updates = record({"id": user_ids}, {"name": optional_text, "email": emails, "image": optional_text})
session_updates = record({"session_token": session_tokens}, {"expires": valid_instants, "user_id": user_ids})

#: Every method, with a strategy for its positional arguments.
CALLS: dict[str, st.SearchStrategy[tuple[Any, ...]]] = {
    "create_user": st.tuples(users),
    "get_user": st.tuples(hostile(user_ids)),
    "get_user_by_email": st.tuples(hostile(emails)),
    "get_user_by_account": st.tuples(hostile(providers), hostile(account_ids)),
    "update_user": st.tuples(user_updates),
    "link_account": st.tuples(accounts),
    "get_account": st.tuples(hostile(providers), hostile(account_ids)),
    "create_session": st.tuples(sessions),
    "get_session_and_user": st.tuples(hostile(session_tokens)),
    "update_session": st.tuples(session_updates),
    "create_verification_token": st.tuples(tokens),
    "use_verification_token": st.tuples(st.one_of(st.none(), hostile(identifiers)), hostile(session_tokens)),
    "create_authenticator": st.tuples(authenticators),
    "get_authenticator": st.tuples(hostile(credentials)),
    "list_authenticators_by_user_id": st.tuples(hostile(user_ids)),
    "update_authenticator_counter": st.tuples(hostile(credentials), hostile(st.integers(0, 2**32 - 1))),
    "delete_session": st.tuples(hostile(session_tokens)),
    "unlink_account": st.tuples(hostile(providers), hostile(account_ids)),
    "delete_user": st.tuples(hostile(st.one_of(st.sampled_from(DISPOSABLE_IDS), st.uuids().map(str)))),
}

# -- the database the examples share -----------------------------------------------------------


@pytest.fixture(scope="module", params=backend_names())
def shared(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PeeweeAdapter]:
    """An adapter on seeded tables (:func:`seed`), shared by every example of the module on one backend."""
    tmp: Path = tmp_path_factory.mktemp("hostile")
    for database in open_clean(str(request.param), tmp):
        adapter = PeeweeAdapter(database)
        adapter.create_tables()
        seed(adapter)
        yield adapter


def seed(adapter: PeeweeAdapter) -> None:
    """Two users, the first with an account, a session, an authenticator and a pending sign-in token."""
    expires = datetime(2031, 1, 1, tzinfo=timezone.utc)
    for user_id in USER_IDS:
        adapter.create_user({"id": user_id, "email": f"{user_id}@example.io"})
    user_id = USER_IDS[0]
    adapter.link_account(
        {"user_id": user_id, "type": "oauth", "provider": "github", "provider_account_id": "1"}
    )
    adapter.create_session({"session_token": "tok", "user_id": user_id, "expires": expires})
    adapter.create_verification_token({"identifier": "ada@example.io", "token": "tok", "expires": expires})
    adapter.create_authenticator(
        {
            "credential_id": "cred",
            "user_id": user_id,
            "provider_account_id": "1",
            "credential_public_key": "key",
            "counter": 0,
            "credential_device_type": "singleDevice",
            "credential_backed_up": False,
        }
    )


def snapshot(database: Database) -> dict[str, list[str]]:
    """Every row of every table, as sorted reprs."""
    return {
        table: sorted(
            repr(row) for row in database.execute_sql(f"SELECT * FROM {quote(database, table)}").fetchall()
        )
        for table in TABLES
    }


def _read_back(adapter: PeeweeAdapter, method: str, result: Any) -> Any:
    """What a read returns for the record ``method`` just wrote (``result`` itself when there is no read)."""
    reads: dict[str, Callable[[], Any]] = {
        "create_user": lambda: adapter.get_user(result["id"]),
        "update_user": lambda: adapter.get_user(result["id"]),
        "link_account": lambda: adapter.get_account(result["provider"], result["provider_account_id"]),
        "create_session": lambda: (adapter.get_session_and_user(result["session_token"]) or {}).get(
            "session"
        ),
        "update_session": lambda: (adapter.get_session_and_user(result["session_token"]) or {}).get(
            "session"
        ),
        "create_authenticator": lambda: adapter.get_authenticator(result["credential_id"]),
        "update_authenticator_counter": lambda: adapter.get_authenticator(result["credential_id"]),
    }
    read = reads.get(method)
    return read() if read is not None and result is not None else result


@pytest.mark.parametrize("method", list(CALLS))
@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_argument_gives_a_result_or_a_typed_error_and_errors_change_nothing(
    shared: PeeweeAdapter, method: str, data: st.DataObject
) -> None:
    """Drawn arguments: a result, or InvalidInputError/DuplicateError/NotFoundError with the tables untouched."""
    args = data.draw(CALLS[method], label="args")
    before = snapshot(shared.database)
    try:
        result = getattr(shared, method)(*args)
    except EXPECTED_ERRORS as error:
        event(type(error).__name__)
        assert snapshot(shared.database) == before, "a refused call changed the database"
        return
    event("result" if result is not None and result != [] else "no result")
    if method.startswith(("create_", "update_")) or method == "link_account":
        assert _read_back(shared, method, result) == result
    for arg in args:
        if isinstance(arg, dict) and isinstance(result, dict):
            for key, value in arg.items():
                if isinstance(value, str) and key in result and key != "email":
                    assert result[key] == value, f"{key} was not kept verbatim"


@pytest.mark.parametrize("fragment", SQL_FRAGMENTS)
def test_sql_fragments_are_stored_and_returned_verbatim(
    adapter: PeeweeAdapter, database: Database, fragment: str
) -> None:
    """Strings that look like SQL are data: every text column keeps them and every lookup finds them."""
    expires = datetime(2031, 1, 1, tzinfo=timezone.utc)
    user = adapter.create_user({"name": fragment, "email": fragment, "image": fragment})
    assert user["name"] == fragment and user["image"] == fragment and user["email"] == fragment.lower()
    assert adapter.get_user_by_email(fragment) == user
    account = adapter.link_account(
        {
            "user_id": user["id"],
            "type": fragment,
            "provider": fragment,
            "provider_account_id": fragment,
            "access_token": fragment,
            "scope": fragment,
        }
    )
    assert adapter.get_account(fragment, fragment) == account
    assert adapter.get_user_by_account(fragment, fragment) == user
    session = adapter.create_session({"session_token": fragment, "user_id": user["id"], "expires": expires})
    assert adapter.get_session_and_user(fragment) == {"session": session, "user": user}
    token = {"identifier": fragment, "token": fragment, "expires": expires}
    adapter.create_verification_token(token)
    assert adapter.use_verification_token(fragment, fragment) == token
    assert [len(snapshot(database)[table]) for table in TABLES] == [1, 1, 1, 0, 0]
    assert adapter.delete_user(user["id"]) == user
    assert [len(rows) for rows in snapshot(database).values()] == [0, 0, 0, 0, 0]


def test_update_cannot_null_a_key_the_record_requires(adapter: PeeweeAdapter, database: Database) -> None:
    """``update_session`` with ``user_id=None`` is refused: a session never loses its user (found by hypothesis)."""
    user = adapter.create_user({"email": "ada@example.io"})
    expires = datetime(2031, 1, 1, tzinfo=timezone.utc)
    session = adapter.create_session({"session_token": "tok", "user_id": user["id"], "expires": expires})
    for key in ("user_id", "expires"):
        with pytest.raises(InvalidInputError, match=f"session.{key}: must not be None"):
            adapter.update_session({"session_token": "tok", key: None})
    assert adapter.get_session_and_user("tok") == {"session": session, "user": user}
