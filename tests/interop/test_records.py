"""Every record type written by one adapter and read by the other, field by field.

Each test runs on every backend and on both schemas (made by ``sequelize.sync()``
and by the Python side). Dates are compared to the millisecond, nulls as nulls;
a JS Invalid Date never equals a datetime, so equality also proves the JS dates valid.
"""

from __future__ import annotations

from typing import Any

from peewee import Database

from peewee_authjs.fields import format_sqlite_datetime
from tests.helpers import rows
from tests.interop.node import UNDEFINED
from tests.interop.node import op
from tests.interop.node import to_js
from tests.interop.node import to_py
from tests.interop.records import account_record
from tests.interop.records import bare_user_record
from tests.interop.records import full_user
from tests.interop.records import kept_dates
from tests.interop.records import later
from tests.interop.records import session_record
from tests.interop.records import token_record
from tests.interop.records import user_record
from tests.interop.schemas import Shared


def test_records_written_by_node_are_read_by_python(shared: Shared) -> None:
    """Users (with and without emailVerified), an account, a session and a token created by the
    JS adapter read the same through PeeweeAdapter as through the JS adapter, and equal what was written."""
    user, bare = user_record(), bare_user_record()
    account, session, token = account_record(user["id"]), session_record(user["id"]), token_record()
    results = shared.js.batch(
        op("createUser", to_js(user)),
        op("createUser", to_js(bare)),
        op("linkAccount", to_js(account)),
        op("createSession", to_js(session)),
        op("createVerificationToken", to_js(token)),
        op("getUser", user["id"]),
        op("getUser", bare["id"]),
        op("findAll", "account", {"userId": user["id"]}),
        op("getSessionAndUser", session["session_token"]),
        op("findAll", "verificationToken", {"identifier": token["identifier"]}),
    )
    assert results[2] is UNDEFINED  # the JS linkAccount returns nothing; Python's returns the account
    assert to_py(results[0])["email_verified"] == user["email_verified"]  # as given, even where not kept
    js_user, js_bare, js_accounts, js_found, js_tokens = results[5:]

    def stored(record: dict[str, Any]) -> dict[str, Any]:
        return kept_dates(record, shared.backend, shared.schema, "js")

    expected_user = stored(user)
    assert to_py(js_user) == expected_user
    assert to_py(js_bare) == full_user(bare)
    py = shared.py
    assert py.get_user(user["id"]) == expected_user
    assert py.get_user(bare["id"]) == full_user(bare)
    assert py.get_user_by_email(user["email"]) == expected_user
    assert py.get_user_by_account(account["provider"], account["provider_account_id"]) == expected_user

    [js_account] = js_accounts
    expected_account = {**account, "id": js_account["id"]}
    assert to_py(js_account) == expected_account
    assert py.get_account(account["provider"], account["provider_account_id"]) == expected_account

    expected_session = stored({**session, "id": js_found["session"]["id"]})
    assert to_py(js_found["session"]) == expected_session
    assert to_py(js_found["user"]) == expected_user
    assert py.get_session_and_user(session["session_token"]) == {
        "session": expected_session,
        "user": expected_user,
    }

    assert [to_py(row) for row in js_tokens] == [stored(token)]
    assert py.use_verification_token(token["identifier"], token["token"]) == stored(token)


def test_records_written_by_python_are_read_by_node(shared: Shared) -> None:
    """Users (with and without email_verified), an account, a session and a token created by
    PeeweeAdapter read back equal through every getter of the JS adapter, with valid JS Dates."""
    py = shared.py
    written = user_record()
    user = py.create_user(written)
    assert user["email_verified"] == written["email_verified"]  # as given, even where not kept
    bare = py.create_user(bare_user_record())
    account = py.link_account(account_record(user["id"]))
    session = py.create_session(session_record(user["id"]))
    token = py.create_verification_token(token_record())

    (js_user, js_bare, by_email, by_account, js_accounts, js_found, js_tokens, used, left) = shared.js.batch(
        op("getUser", user["id"]),
        op("getUser", bare["id"]),
        op("getUserByEmail", user["email"]),
        op(
            "getUserByAccount",
            {"provider": account["provider"], "providerAccountId": account["provider_account_id"]},
        ),
        op("findAll", "account", {"userId": user["id"]}),
        op("getSessionAndUser", session["session_token"]),
        op("findAll", "verificationToken", {"identifier": token["identifier"]}),
        op("useVerificationToken", {"identifier": token["identifier"], "token": token["token"]}),
        op("findAll", "verificationToken", {"identifier": token["identifier"]}),
    )

    def stored(record: Any) -> dict[str, Any]:
        return kept_dates(dict(record), shared.backend, shared.schema, "py")

    assert bare == full_user(bare)
    assert to_py(js_user) == to_py(by_email) == to_py(by_account) == stored(user)
    assert to_py(js_bare) == bare
    assert [to_py(row) for row in js_accounts] == [account]
    assert to_py(js_found["session"]) == stored(session)
    assert to_py(js_found["user"]) == stored(user)
    assert [to_py(row) for row in js_tokens] == [stored(token)]
    assert to_py(used) == stored(token)
    assert left == []


def test_both_sides_store_an_instant_identically(shared: Shared, database: Database) -> None:
    """The same instant written by each side is stored as the same raw value (on SQLite the same text,
    Sequelize's `YYYY-MM-DD HH:MM:SS.mmm +00:00`), so SQL comparisons on dates hold across rows of both."""
    user = shared.py.create_user(user_record())
    instant = later(3)
    from_py = shared.py.create_session({**session_record(user["id"]), "expires": instant})
    from_js = {**session_record(user["id"]), "expires": instant}
    shared.js.batch(op("createSession", to_js(from_js)))
    raw = rows(
        database,
        "SELECT session_token, expires FROM sessions WHERE session_token IN (?, ?)",
        from_py["session_token"],
        from_js["session_token"],
    )
    stored = {row["session_token"]: row["expires"] for row in raw}
    py_raw, js_raw = stored[from_py["session_token"]], stored[from_js["session_token"]]
    if shared.backend == "mysql" and shared.schema == "migrated":
        # DATETIME(3): Python's milliseconds are kept, Sequelize never sends any.
        assert (py_raw.microsecond, js_raw.microsecond) == (678000, 0)
        assert py_raw.replace(microsecond=0) == js_raw
    else:
        assert py_raw == js_raw
    if shared.backend == "sqlite":
        assert js_raw == format_sqlite_datetime(instant)
