"""Where the two adapters behave differently on one database (the table in ``docs/interop.md``).

Each test shows both behaviours side by side, so the documented difference is the
one that holds; a change on either side makes it fail.
"""

from __future__ import annotations

import secrets

import pytest
from peewee import Database

from peewee_authjs import DuplicateError
from peewee_authjs import InvalidInputError
from tests.helpers import count
from tests.interop.node import JsError
from tests.interop.node import op
from tests.interop.node import to_js
from tests.interop.node import to_py
from tests.interop.records import account_record
from tests.interop.records import bare_user_record
from tests.interop.records import full_user
from tests.interop.records import kept_dates
from tests.interop.records import token_record
from tests.interop.records import user_record
from tests.interop.schemas import Shared


def test_verification_token_consumption(sequelize_made: Shared) -> None:
    """Python consumes only the matching token (other tokens of the identifier stay usable); the JS
    adapter deletes every token of the identifier, even for a wrong token, and throws when the
    identifier is undefined (a link without email=), which Python matches on the token alone."""
    py, js = sequelize_made.py, sequelize_made.js
    a1, b1, c1 = token_record(), token_record(), token_record()
    a2, b2 = token_record(a1["identifier"]), token_record(b1["identifier"])
    for record in (a1, a2, b1, b2, c1):
        py.create_verification_token(record)
    assert py.use_verification_token(a1["identifier"], a1["token"]) is not None

    kept_a2, wrong_b, no_identifier = js.run(
        op("useVerificationToken", {"identifier": a2["identifier"], "token": a2["token"]}),
        op("useVerificationToken", {"identifier": b1["identifier"], "token": secrets.token_hex(32)}),
        op("useVerificationToken", {"token": c1["token"]}),
    )
    assert to_py(kept_a2) == kept_dates(a2, sequelize_made.backend, "sequelize", "py")
    assert wrong_b is None
    assert py.use_verification_token(b1["identifier"], b1["token"]) is None
    assert py.use_verification_token(b2["identifier"], b2["token"]) is None
    assert isinstance(no_identifier, JsError)
    assert 'WHERE parameter "identifier" has invalid "undefined" value' in no_identifier.message
    assert py.use_verification_token(None, c1["token"]) == kept_dates(
        c1, sequelize_made.backend, "sequelize", "py"
    )


def test_emails_are_lowercased_by_python_only(shared: Shared) -> None:
    """Python stores and looks up e-mails lowercased; the JS adapter stores and compares them as given,
    so a mixed-case e-mail written by JS is found by Python only where the column compares without case
    (MySQL's default collation, i.e. a Sequelize-made MySQL table)."""
    py, js = shared.py, shared.js
    mixed = f"Mixed-{secrets.token_hex(3)}@Example.COM"
    created = py.create_user({"email": mixed})
    assert created["email"] == mixed.lower()
    from_js = {"id": bare_user_record()["id"], "email": f"Other-{secrets.token_hex(3)}@Example.COM"}
    js_created, js_lookup_mixed, js_lookup_lower = js.batch(
        op("createUser", to_js(from_js)),
        op("getUserByEmail", mixed),
        op("getUserByEmail", mixed.lower()),
    )
    case_blind = shared.backend == "mysql" and shared.schema == "sequelize"
    assert js_created["email"] == from_js["email"]
    assert to_py(js_lookup_lower) == created
    assert (js_lookup_mixed is not None) == case_blind
    found = py.get_user_by_email(from_js["email"])
    assert (found == full_user(from_js)) if case_blind else (found is None)


def test_unknown_keys(sequelize_made: Shared, database: Database) -> None:
    """The JS adapter silently drops attributes it does not know; Python refuses the record with an
    error naming the key and writes nothing."""
    py, js = sequelize_made.py, sequelize_made.js
    user = bare_user_record()
    js.batch(op("createUser", {**to_js(user), "phoneNumber": "+1 555"}))
    assert py.get_user(user["id"]) == full_user(user)
    with pytest.raises(InvalidInputError, match="phone_number"):
        py.create_user({**bare_user_record(), "phone_number": "+1 555"})
    assert count(database, "users") == 1


def test_ids_that_are_not_uuids(sequelize_made: Shared) -> None:
    """Looking up an id that is not a uuid: Python answers None on every backend; the JS adapter throws
    on PostgreSQL (native uuid column) and answers null elsewhere."""
    result = sequelize_made.js.run(op("getUser", "not-a-uuid"))[0]
    if sequelize_made.backend == "postgres":
        assert isinstance(result, JsError) and "uuid" in result.message
    else:
        assert result is None
    assert sequelize_made.py.get_user("not-a-uuid") is None


def test_duplicate_provider_accounts(shared: Shared, database: Database) -> None:
    """A second account with the same (provider, provider_account_id) is refused by both sides on our
    schema (unique index) and accepted by both on a Sequelize-made one (no index)."""
    py, js = shared.py, shared.js
    user = py.create_user(user_record())
    account = account_record(user["id"])
    py.link_account(account)
    second_js = js.run(op("linkAccount", to_js(account)))[0]
    if shared.schema == "sequelize":
        py.link_account(account)
        assert count(database, "accounts") == 3
    else:
        assert isinstance(second_js, JsError) and second_js.name == "SequelizeUniqueConstraintError"
        with pytest.raises(DuplicateError):
            py.link_account(account)
        assert count(database, "accounts") == 1


def test_long_oauth_tokens(shared: Shared, database: Database) -> None:
    """OAuth tokens longer than 255 characters: VARCHAR(255) in a Sequelize-made schema refuses them on
    PostgreSQL and MySQL from both sides (SQLite does not enforce lengths); our schema keeps them as TEXT
    and each side reads the other's unchanged."""
    py, js = shared.py, shared.js
    user = py.create_user(user_record())
    long_js = {**account_record(user["id"]), "access_token": "j" * 2000, "refresh_token": "r" * 1000}
    long_py = {**account_record(user["id"]), "access_token": "p" * 2000}
    result = js.run(op("linkAccount", to_js(long_js)))[0]
    refused = shared.schema == "sequelize" and shared.backend != "sqlite"
    if refused:
        assert isinstance(result, JsError) and result.name == "SequelizeDatabaseError"
        with pytest.raises(InvalidInputError, match="migrate"):
            py.link_account(long_py)
        assert count(database, "accounts") == 0
        return
    stored_py = py.link_account(long_py)
    found_js = py.get_account(long_js["provider"], long_js["provider_account_id"])
    assert found_js is not None and found_js["access_token"] == long_js["access_token"]
    [js_view] = js.call("findAll", "account", {"providerAccountId": long_py["provider_account_id"]})
    assert to_py(js_view) == stored_py
