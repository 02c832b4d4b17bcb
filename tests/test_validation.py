"""Bad input gets a typed error naming the field, and nothing is written."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from datetime import timedelta
from datetime import timezone
from typing import Any

import pytest
from peewee import Database

from peewee_authjs import DuplicateError
from peewee_authjs import InvalidInputError
from peewee_authjs import PeeweeAdapter
from tests.helpers import snapshot

UTC = timezone.utc
LATER = datetime.now(UTC) + timedelta(days=1)


def new_id() -> str:
    return str(uuid.uuid4())


@pytest.fixture
def user(adapter: PeeweeAdapter) -> dict[str, Any]:
    return dict(adapter.create_user({"email": "ada@example.com", "name": "Ada"}))


def assert_refused(
    database: Database, call: Callable[[], object], field: str | None, *fragments: str
) -> InvalidInputError:
    before = snapshot(database)
    with pytest.raises(InvalidInputError) as caught:
        call()
    assert caught.value.field == field
    for fragment in fragments:
        assert fragment in str(caught.value)
    assert snapshot(database) == before
    return caught.value


def test_camel_case_keys_get_a_suggestion(adapter: PeeweeAdapter, database: Database) -> None:
    """Auth.js's camelCase spellings are refused with the snake_case key to use."""
    error = assert_refused(
        database,
        lambda: adapter.create_user({"email": "a@b.co", "emailVerified": LATER}),
        "emailVerified",
        "did you mean 'email_verified'",
    )
    assert isinstance(error, ValueError)
    assert_refused(
        database,
        lambda: adapter.create_session({"sessionToken": "t", "userId": new_id(), "expires": LATER}),
        "sessionToken",
        "did you mean 'session_token'",
    )
    assert_refused(
        database,
        lambda: adapter.create_authenticator({"credentialID": "c"}),
        "credentialID",
        "did you mean 'credential_id'",
    )


def test_unknown_keys_are_refused(adapter: PeeweeAdapter, database: Database) -> None:
    """A key no column has is refused (Sequelize would silently drop it)."""
    assert_refused(
        database, lambda: adapter.create_user({"email": "a@b.co", "role": "admin"}), "role", "unknown key"
    )


def test_missing_required_fields(adapter: PeeweeAdapter, database: Database, user: dict[str, Any]) -> None:
    """Required keys of each record are named when absent or None."""
    assert_refused(
        database,
        lambda: adapter.link_account({"user_id": user["id"], "type": "oauth", "provider": "github"}),
        "provider_account_id",
        "required",
    )
    assert_refused(
        database,
        lambda: adapter.create_session({"session_token": "t", "user_id": user["id"]}),
        "expires",
        "required",
    )
    assert_refused(
        database,
        lambda: adapter.create_verification_token({"identifier": "a@b.co", "token": None, "expires": LATER}),
        "token",
        "must not be None",
    )
    assert_refused(database, lambda: adapter.update_user({"name": "x"}), "id", "required")
    assert_refused(database, lambda: adapter.update_session({"expires": LATER}), "session_token", "required")


@pytest.mark.parametrize(
    ("record", "field"),
    [
        ({"email": 42}, "user.email"),
        ({"email_verified": "2024-01-01"}, "user.email_verified"),
        ({"id": "not-a-uuid"}, "user.id"),
        ({"id": 12345}, "user.id"),
        ({"name": "x" * 256}, "user.name"),
        ({"name": "nul\x00byte"}, "user.name"),
        ({"name": "lone \ud800 surrogate"}, "user.name"),
    ],
)
def test_wrong_types_and_unstorable_values(
    adapter: PeeweeAdapter, database: Database, record: dict[str, Any], field: str
) -> None:
    """Wrong types, malformed ids, over-long strings, NUL bytes and lone surrogates are refused."""
    assert_refused(database, lambda: adapter.create_user(record), field, field)


def test_naive_datetimes_are_refused(
    adapter: PeeweeAdapter, database: Database, user: dict[str, Any]
) -> None:
    """A naive datetime is ambiguous: refused, with how to make an aware one."""
    naive = datetime(2030, 1, 1, 12, 0)
    assert_refused(
        database,
        lambda: adapter.create_session({"session_token": "t", "user_id": user["id"], "expires": naive}),
        "session.expires",
        "naive",
    )
    assert_refused(
        database,
        lambda: adapter.update_user({"id": user["id"], "email_verified": naive}),
        "user.email_verified",
    )


def test_integer_rules(adapter: PeeweeAdapter, database: Database, user: dict[str, Any]) -> None:
    """expires_at is a 32-bit integer (not a bool); an authenticator counter is unsigned 32-bit."""
    base = {"user_id": user["id"], "type": "oauth", "provider": "p", "provider_account_id": "1"}
    assert_refused(database, lambda: adapter.link_account({**base, "expires_at": True}), "account.expires_at")
    assert_refused(
        database, lambda: adapter.link_account({**base, "expires_at": 2**31}), "account.expires_at"
    )
    assert_refused(database, lambda: adapter.update_authenticator_counter("c", -1), "new_counter", "range")


def test_non_dict_records(adapter: PeeweeAdapter, database: Database) -> None:
    """A record that is not a mapping is refused."""
    assert_refused(database, lambda: adapter.create_user(["email"]), None, "expected a dict")  # type: ignore[arg-type]


def test_lookup_argument_types(adapter: PeeweeAdapter) -> None:
    """Lookups refuse non-strings but treat unstorable strings as simply not found."""
    with pytest.raises(InvalidInputError, match="session_token"):
        adapter.get_session_and_user(123)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="id"):
        adapter.get_user(None)  # type: ignore[arg-type]
    assert adapter.get_session_and_user("x" * 1000) is None
    assert adapter.get_session_and_user("a\x00b") is None
    assert adapter.get_user_by_email("\ud800@example.com") is None


def test_duplicate_email(adapter: PeeweeAdapter, database: Database, user: dict[str, Any]) -> None:
    """A taken e-mail (in any case) raises DuplicateError naming users.email; nothing is written."""
    before = snapshot(database)
    with pytest.raises(DuplicateError) as caught:
        adapter.create_user({"email": "ADA@example.com"})
    assert (caught.value.table, caught.value.key) == ("users", "email")
    assert "ada@example.com" not in str(caught.value).lower()
    assert snapshot(database) == before


def test_duplicate_id(adapter: PeeweeAdapter, database: Database, user: dict[str, Any]) -> None:
    """A taken user id raises DuplicateError naming the id."""
    with pytest.raises(DuplicateError) as caught:
        adapter.create_user({"id": user["id"], "email": "other@example.com"})
    assert caught.value.key == "id"


def test_duplicate_provider_account(adapter: PeeweeAdapter, database: Database, user: dict[str, Any]) -> None:
    """The second link of one provider account raises DuplicateError on (provider, provider_account_id)."""
    account = {"user_id": user["id"], "type": "oauth", "provider": "github", "provider_account_id": "42"}
    adapter.link_account(account)
    before = snapshot(database)
    with pytest.raises(DuplicateError) as caught:
        adapter.link_account(account)
    assert caught.value.table == "accounts"
    assert caught.value.key == "provider, provider_account_id"
    assert snapshot(database) == before


def test_duplicate_session_token(adapter: PeeweeAdapter, database: Database, user: dict[str, Any]) -> None:
    """A taken session token raises DuplicateError without quoting the token."""
    session = {"session_token": "secret-token-value", "user_id": user["id"], "expires": LATER}
    adapter.create_session(session)
    with pytest.raises(DuplicateError) as caught:
        adapter.create_session(session)
    assert caught.value.key == "session_token"
    assert "secret-token-value" not in str(caught.value)
    assert caught.value.__suppress_context__


def test_models_option_is_checked(database: Database) -> None:
    """models= takes only the five names, each a subclass of the default model."""
    from peewee_authjs import models

    with pytest.raises(InvalidInputError, match="unknown model name"):
        PeeweeAdapter(database, models={"Users": models.User})
    with pytest.raises(InvalidInputError, match="subclass"):
        PeeweeAdapter(database, models={"User": models.Account})
    with pytest.raises(TypeError):
        PeeweeAdapter(42)  # type: ignore[arg-type]
