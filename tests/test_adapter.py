"""The Auth.js adapter contract, on every backend.

Cases 1-22 port ``packages/utils/adapter.ts`` (``runBasicTests``, with the WebAuthn
methods on); each checks what was written by reading the database directly
(``tests.helpers.read_row``) and each lookup is also tried for the not-found case.
"""

from __future__ import annotations

import random
import uuid
from datetime import datetime
from datetime import timedelta
from datetime import timezone
from hashlib import sha256
from typing import Any

import pytest
from peewee import Database

from peewee_authjs import NotFoundError
from peewee_authjs import PeeweeAdapter
from tests.helpers import count
from tests.helpers import read_row

UTC = timezone.utc
NOW = datetime.now(UTC).replace(microsecond=0)
ONE_WEEK_FROM_NOW = NOW + timedelta(days=7)
FIFTEEN_MINUTES_FROM_NOW = NOW + timedelta(minutes=15)
ONE_MONTH_FROM_NOW = NOW + timedelta(days=30)

REQUIRED_METHODS = (
    "create_user",
    "get_user",
    "get_user_by_email",
    "get_user_by_account",
    "update_user",
    "link_account",
    "create_session",
    "get_session_and_user",
    "update_session",
    "delete_session",
)


def new_id() -> str:
    return str(uuid.uuid4())


def hash_token(token: str) -> str:
    return sha256(f"{token}anything".encode()).hexdigest()


def user_fixture(**extra: Any) -> dict[str, Any]:
    # Milliseconds are kept, as upstream's fixture keeps them.
    verified = datetime.now(UTC)
    verified = verified.replace(microsecond=verified.microsecond // 1000 * 1000)
    return {
        "id": new_id(),
        "email": f"fill-{uuid.uuid4().hex[:8]}@murray.com",
        "image": "https://www.fillmurray.com/460/300",
        "name": "Fill Murray",
        "email_verified": verified,
        **extra,
    }


def account_fixture(user_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "provider": "github",
        "provider_account_id": new_id(),
        "type": "oauth",
        "access_token": new_id(),
        "expires_at": 2592000,
        "id_token": new_id(),
        "refresh_token": new_id(),
        "token_type": "bearer",
        "scope": "user",
        "session_state": new_id(),
        "user_id": user_id,
        **extra,
    }


@pytest.fixture
def user(adapter: PeeweeAdapter) -> dict[str, Any]:
    return dict(adapter.create_user(user_fixture()))


@pytest.fixture
def session(adapter: PeeweeAdapter, user: dict[str, Any]) -> dict[str, Any]:
    created = adapter.create_session(
        {"session_token": new_id(), "user_id": user["id"], "expires": ONE_WEEK_FROM_NOW}
    )
    return dict(created)


@pytest.fixture
def account(adapter: PeeweeAdapter, user: dict[str, Any]) -> dict[str, Any]:
    return dict(adapter.link_account(account_fixture(user["id"])))


def webauthn_user(adapter: PeeweeAdapter, email: str) -> tuple[str, str]:
    """A user with a linked webauthn account; (user id, credential id)."""
    user = adapter.create_user({"id": new_id(), "email": email, "email_verified": None})
    credential_id = new_id()
    adapter.link_account(
        {
            "provider": "webauthn",
            "provider_account_id": credential_id,
            "type": "webauthn",
            "user_id": user["id"],
        }
    )
    return user["id"], credential_id


def authenticator_fixture(
    user_id: str, credential_id: str, transports: str = "usb,ble,nfc"
) -> dict[str, Any]:
    return {
        "credential_id": credential_id,
        "provider_account_id": credential_id,
        "user_id": user_id,
        "counter": random.randint(0, 99),
        "credential_backed_up": True,
        "credential_device_type": "platform",
        "credential_public_key": new_id(),
        "transports": transports,
    }


# 1
def test_required_methods_exist(adapter: PeeweeAdapter) -> None:
    """1. The user, account and session methods core asserts are all there."""
    for name in REQUIRED_METHODS:
        assert callable(getattr(adapter, name))


# 2
def test_create_user_keeps_the_given_id(adapter: PeeweeAdapter, database: Database) -> None:
    """2. create_user stores every field as given, with the caller's id, and returns it."""
    given = user_fixture()
    created = adapter.create_user(given)
    assert created == given
    assert read_row(database, "users", id=given["id"]) == given


def test_create_user_generates_a_uuid4_id(adapter: PeeweeAdapter, database: Database) -> None:
    """A user given without id (WebAuthn sign-up) gets a dashed uuid4; absent fields read as None."""
    created = adapter.create_user({"email": "new@example.com"})
    assert uuid.UUID(created["id"]).version == 4 and len(created["id"]) == 36
    assert created == {
        "id": created["id"],
        "name": None,
        "email": "new@example.com",
        "email_verified": None,
        "image": None,
    }
    assert read_row(database, "users", id=created["id"]) == created


# 3
def test_get_user(adapter: PeeweeAdapter, user: dict[str, Any]) -> None:
    """3. get_user: None for an unknown id, the user for a known one."""
    assert adapter.get_user(new_id()) is None
    assert adapter.get_user(user["id"]) == user


def test_get_user_with_a_malformed_id_is_none(adapter: PeeweeAdapter, user: dict[str, Any]) -> None:
    """A string that is not a uuid is simply not found, also on PostgreSQL's uuid column."""
    for bad in ("1", "not-a-uuid", user["id"].replace("-", ""), ""):
        assert adapter.get_user(bad) is None


def test_get_user_accepts_an_uppercase_uuid(adapter: PeeweeAdapter, user: dict[str, Any]) -> None:
    """Ids are compared in their canonical lowercase form."""
    assert adapter.get_user(user["id"].upper()) == user


# 4
def test_get_user_by_email(adapter: PeeweeAdapter, user: dict[str, Any]) -> None:
    """4. get_user_by_email: None for an unknown address, the user for a known one."""
    assert adapter.get_user_by_email("non-existent-email") is None
    assert adapter.get_user_by_email(user["email"]) == user


# 5
def test_create_session(adapter: PeeweeAdapter, database: Database, user: dict[str, Any]) -> None:
    """5. create_session stores the session (with a generated id) and returns it whole."""
    given = {"session_token": new_id(), "user_id": user["id"], "expires": ONE_WEEK_FROM_NOW}
    created = adapter.create_session(given)
    stored = read_row(database, "sessions", session_token=given["session_token"])
    assert stored == {**given, "id": stored["id"] if stored else None}
    assert created == stored
    assert uuid.UUID(created["id"]).version == 4


# 6
def test_get_session_and_user(adapter: PeeweeAdapter, user: dict[str, Any], session: dict[str, Any]) -> None:
    """6. get_session_and_user: None for an unknown token; the session and its user otherwise."""
    assert adapter.get_session_and_user("invalid-token") is None
    assert adapter.get_session_and_user(session["session_token"]) == {"session": session, "user": user}


def test_get_session_and_user_returns_expired_sessions(adapter: PeeweeAdapter, user: dict[str, Any]) -> None:
    """Expiry is Auth.js core's rule, not the adapter's: an expired session is returned too."""
    expired = adapter.create_session(
        {"session_token": new_id(), "user_id": user["id"], "expires": NOW - timedelta(days=1)}
    )
    found = adapter.get_session_and_user(expired["session_token"])
    assert found is not None and found["session"] == expired


# 7
def test_update_user(adapter: PeeweeAdapter, database: Database, user: dict[str, Any]) -> None:
    """7. update_user changes the given fields only and returns the whole user."""
    updated = adapter.update_user({"id": user["id"], "name": "Updated Name"})
    assert updated == {**user, "name": "Updated Name"}
    assert read_row(database, "users", id=user["id"]) == updated


def test_update_user_unknown_is_none(adapter: PeeweeAdapter, database: Database) -> None:
    """update_user of an unknown id returns None and creates nothing."""
    assert adapter.update_user({"id": new_id(), "name": "Nobody"}) is None
    assert count(database, "users") == 0


def test_update_user_with_only_the_id_reads_it(adapter: PeeweeAdapter, user: dict[str, Any]) -> None:
    """update_user with nothing to change returns the user as it is (None when unknown)."""
    assert adapter.update_user({"id": user["id"]}) == user
    assert adapter.update_user({"id": new_id()}) is None


def test_update_user_to_the_same_values(adapter: PeeweeAdapter, user: dict[str, Any]) -> None:
    """Setting a field to its current value still returns the user (MySQL counts no changed row)."""
    assert adapter.update_user({"id": user["id"], "name": user["name"]}) == user


# 8
def test_update_session(adapter: PeeweeAdapter, database: Database, session: dict[str, Any]) -> None:
    """8. update_session moves the expiry, as Auth.js's sliding sessions do."""
    stored = read_row(database, "sessions", session_token=session["session_token"])
    assert stored is not None and stored["expires"] != ONE_MONTH_FROM_NOW
    updated = adapter.update_session(
        {"session_token": session["session_token"], "expires": ONE_MONTH_FROM_NOW}
    )
    assert updated == {**session, "expires": ONE_MONTH_FROM_NOW}
    stored = read_row(database, "sessions", session_token=session["session_token"])
    assert stored is not None and stored["expires"] == ONE_MONTH_FROM_NOW


def test_update_session_unknown_is_none(adapter: PeeweeAdapter) -> None:
    """update_session of an unknown token returns None."""
    assert adapter.update_session({"session_token": "nope", "expires": NOW}) is None
    assert adapter.update_session({"session_token": "nope"}) is None


# 9
def test_link_account(adapter: PeeweeAdapter, database: Database, user: dict[str, Any]) -> None:
    """9. link_account stores every token field and returns the account with its id."""
    given = account_fixture(user["id"])
    linked = adapter.link_account(given)
    stored = read_row(
        database, "accounts", provider=given["provider"], provider_account_id=given["provider_account_id"]
    )
    assert stored is not None
    assert stored == {**given, "id": stored["id"]}
    assert linked == stored


def test_link_account_keeps_long_tokens(
    adapter: PeeweeAdapter, database: Database, user: dict[str, Any]
) -> None:
    """Google-sized tokens (2 KB access, 512 B refresh) fit: the token columns are TEXT."""
    given = account_fixture(user["id"], access_token="a" * 2048, refresh_token="r" * 512, id_token="i" * 4000)
    adapter.link_account(given)
    stored = read_row(database, "accounts", provider_account_id=given["provider_account_id"])
    assert stored is not None and stored["access_token"] == "a" * 2048 and stored["id_token"] == "i" * 4000


def test_link_account_for_an_unknown_user(adapter: PeeweeAdapter, database: Database) -> None:
    """An account whose user_id names no user is refused with NotFoundError; nothing is written."""
    with pytest.raises(NotFoundError, match="user_id"):
        adapter.link_account(account_fixture(new_id()))
    assert count(database, "accounts") == 0


# 10
def test_get_user_by_account(adapter: PeeweeAdapter, user: dict[str, Any], account: dict[str, Any]) -> None:
    """10. get_user_by_account: None for an unknown pair (either half wrong), the owner otherwise."""
    assert adapter.get_user_by_account("invalid-provider", "invalid-provider-account-id") is None
    assert adapter.get_user_by_account(account["provider"], "invalid") is None
    assert adapter.get_user_by_account("invalid", account["provider_account_id"]) is None
    assert adapter.get_user_by_account(account["provider"], account["provider_account_id"]) == user


# 11
def test_delete_session(adapter: PeeweeAdapter, database: Database, session: dict[str, Any]) -> None:
    """11. delete_session removes the row and returns it; a second call returns None."""
    assert adapter.delete_session(session["session_token"]) == session
    assert read_row(database, "sessions", session_token=session["session_token"]) is None
    assert adapter.delete_session(session["session_token"]) is None


# 12, 13
def test_create_verification_token(adapter: PeeweeAdapter, database: Database) -> None:
    """12-13. create_verification_token stores exactly identifier, token and expiry."""
    assert callable(adapter.create_verification_token) and callable(adapter.use_verification_token)
    given = {
        "token": hash_token(new_id()),
        "identifier": "info@example.com",
        "expires": FIFTEEN_MINUTES_FROM_NOW,
    }
    assert adapter.create_verification_token(given) == given
    assert read_row(database, "verification_tokens", token=given["token"]) == given


# 14
def test_use_verification_token(adapter: PeeweeAdapter, database: Database) -> None:
    """14. use_verification_token returns the token once, then None; the same token can be issued again."""
    given = {
        "token": hash_token(new_id()),
        "identifier": "info@example.com",
        "expires": FIFTEEN_MINUTES_FROM_NOW,
    }
    adapter.create_verification_token(given)
    assert adapter.use_verification_token(identifier=given["identifier"], token=given["token"]) == given
    assert adapter.use_verification_token(identifier=given["identifier"], token=given["token"]) is None
    assert read_row(database, "verification_tokens", token=given["token"]) is None
    adapter.create_verification_token(given)
    assert adapter.use_verification_token(identifier="invalid@identifier.com", token=given["token"]) is None


def test_use_verification_token_consumes_only_the_match(adapter: PeeweeAdapter, database: Database) -> None:
    """A wrong token deletes nothing, and using one token leaves the identifier's other tokens."""
    first = {"token": hash_token("one"), "identifier": "a@example.com", "expires": FIFTEEN_MINUTES_FROM_NOW}
    second = {**first, "token": hash_token("two")}
    adapter.create_verification_token(first)
    adapter.create_verification_token(second)
    assert adapter.use_verification_token("a@example.com", hash_token("wrong")) is None
    assert count(database, "verification_tokens") == 2
    assert adapter.use_verification_token("a@example.com", first["token"]) == first
    assert read_row(database, "verification_tokens", token=second["token"]) == second


def test_use_verification_token_without_identifier(adapter: PeeweeAdapter) -> None:
    """identifier=None (a link without email=) matches on the token alone."""
    given = {"token": hash_token("x"), "identifier": "a@example.com", "expires": FIFTEEN_MINUTES_FROM_NOW}
    adapter.create_verification_token(given)
    assert adapter.use_verification_token(None, hash_token("y")) is None
    assert adapter.use_verification_token(None, given["token"]) == given
    assert adapter.use_verification_token(None, given["token"]) is None


def test_use_verification_token_returns_expired_tokens(adapter: PeeweeAdapter) -> None:
    """Expiry is checked by the caller: an expired token is still consumed and returned."""
    given = {"token": hash_token("old"), "identifier": "a@example.com", "expires": NOW - timedelta(hours=1)}
    adapter.create_verification_token(given)
    assert adapter.use_verification_token("a@example.com", given["token"]) == given


# 15, 16
def test_unlink_account(adapter: PeeweeAdapter, database: Database, account: dict[str, Any]) -> None:
    """15-16. unlink_account deletes the account and returns it; then None."""
    key = {"provider": account["provider"], "provider_account_id": account["provider_account_id"]}
    assert read_row(database, "accounts", **key) == account
    assert adapter.unlink_account(**key) == account
    assert read_row(database, "accounts", **key) is None
    assert adapter.unlink_account(**key) is None


# 17
def test_delete_user_cascades(
    adapter: PeeweeAdapter, database: Database, user: dict[str, Any], account: dict[str, Any]
) -> None:
    """17. delete_user removes the user with its sessions, accounts and authenticators."""
    session = adapter.create_session(
        {"session_token": new_id(), "user_id": user["id"], "expires": ONE_WEEK_FROM_NOW}
    )
    adapter.create_authenticator(authenticator_fixture(user["id"], new_id()))
    other = adapter.create_user(user_fixture())
    other_session = adapter.create_session(
        {"session_token": new_id(), "user_id": other["id"], "expires": ONE_WEEK_FROM_NOW}
    )
    assert read_row(database, "users", id=user["id"]) == user
    assert adapter.delete_user(user["id"]) == user
    assert read_row(database, "users", id=user["id"]) is None
    assert read_row(database, "sessions", session_token=session["session_token"]) is None
    assert read_row(database, "accounts", provider_account_id=account["provider_account_id"]) is None
    assert count(database, "authenticators") == 0
    assert read_row(database, "sessions", session_token=other_session["session_token"]) is not None
    assert adapter.delete_user(user["id"]) is None


# 18
def test_get_account(adapter: PeeweeAdapter) -> None:
    """18. get_account: None unless both provider and provider_account_id match."""
    user = adapter.create_user({"id": new_id(), "email": "getaccount@example.com", "email_verified": None})
    valid = {"provider": "auth0", "provider_account_id": new_id(), "type": "oauth", "user_id": user["id"]}
    adapter.link_account(valid)
    assert adapter.get_account("invalid-provider", "invalid-provider-account-id") is None
    assert adapter.get_account("invalid-provider", valid["provider_account_id"]) is None
    assert adapter.get_account("auth0", "invalid-provider-account-id") is None
    found = adapter.get_account("auth0", valid["provider_account_id"])
    assert found is not None and {k: found[k] for k in valid} == valid
    assert found["access_token"] is None and found["expires_at"] is None


# 19
def test_create_authenticator(adapter: PeeweeAdapter, database: Database) -> None:
    """19. create_authenticator stores and returns the credential."""
    user_id, credential_id = webauthn_user(adapter, "create-authenticator@example.com")
    given = authenticator_fixture(user_id, credential_id)
    created = adapter.create_authenticator(given)
    assert created == given
    assert read_row(database, "authenticators", credential_id=credential_id) == created


# 20
def test_get_authenticator(adapter: PeeweeAdapter) -> None:
    """20. get_authenticator: None for an unknown credential, the authenticator otherwise."""
    user_id, credential_id = webauthn_user(adapter, "get-authenticator@example.com")
    created = adapter.create_authenticator(authenticator_fixture(user_id, credential_id))
    assert adapter.get_authenticator("invalid-credential-id") is None
    assert adapter.get_authenticator(credential_id) == created


# 21
def test_list_authenticators_by_user_id(adapter: PeeweeAdapter) -> None:
    """21. list_authenticators_by_user_id: each user's own, [] for an unknown user."""
    user1, cred1 = webauthn_user(adapter, "list1@example.com")
    user2, cred3 = webauthn_user(adapter, "list2@example.com")
    cred2 = new_id()
    adapter.link_account(
        {"provider": "webauthn", "provider_account_id": cred2, "type": "webauthn", "user_id": user1}
    )
    a1 = adapter.create_authenticator(authenticator_fixture(user1, cred1, "usb,ble,nfc"))
    a2 = adapter.create_authenticator(authenticator_fixture(user1, cred2, "usb,nfc"))
    a3 = adapter.create_authenticator(authenticator_fixture(user2, cred3, "usb,ble"))
    assert adapter.list_authenticators_by_user_id("invalid-user-id") == []
    assert adapter.list_authenticators_by_user_id(new_id()) == []
    listed = adapter.list_authenticators_by_user_id(user1)
    assert sorted(listed, key=lambda a: a["credential_id"]) == sorted(
        [a1, a2], key=lambda a: a["credential_id"]
    )
    assert adapter.list_authenticators_by_user_id(user2) == [a3]


def test_authenticators_are_listed_in_the_same_order_on_every_backend(
    adapter: PeeweeAdapter, database: Database
) -> None:
    """Credential ids come back in code-point order, whatever the PostgreSQL database's collation.

    A database created with an ``en_US`` locale sorts ``a_2`` before ``B-1``; SQLite and MySQL
    (binary collations) do not. The column is given a linguistic collation here to stand for such a
    database.
    """
    from peewee_authjs.fields import dialect_of

    if dialect_of(database) == "postgres":
        database.execute_sql(
            'ALTER TABLE authenticators ALTER COLUMN credential_id TYPE VARCHAR(255) COLLATE "en-x-icu"'
        )
    user = adapter.create_user({"email": "order@example.com"})
    ids = ["a_2", "B-1", "ab", "A-3", "b"]
    for credential_id in ids:
        adapter.create_authenticator(authenticator_fixture(user["id"], credential_id))
    listed = [a["credential_id"] for a in adapter.list_authenticators_by_user_id(user["id"])]
    assert listed == sorted(ids)


# 22
def test_update_authenticator_counter(adapter: PeeweeAdapter, database: Database) -> None:
    """22. update_authenticator_counter raises for an unknown credential and sets the counter."""
    user_id, credential_id = webauthn_user(adapter, "counter@example.com")
    created = adapter.create_authenticator(authenticator_fixture(user_id, credential_id))
    with pytest.raises(NotFoundError):
        adapter.update_authenticator_counter("invalid-credential-id", 1)
    new_counter = created["counter"] + random.randint(1, 100)
    updated = adapter.update_authenticator_counter(credential_id, new_counter)
    assert updated == {**created, "counter": new_counter}
    stored = read_row(database, "authenticators", credential_id=credential_id)
    assert stored is not None and stored["counter"] == new_counter


def test_update_authenticator_counter_to_the_same_value(adapter: PeeweeAdapter) -> None:
    """Setting the counter to its current value still returns the authenticator (no false NotFound)."""
    user_id, credential_id = webauthn_user(adapter, "same-counter@example.com")
    created = adapter.create_authenticator(authenticator_fixture(user_id, credential_id))
    assert adapter.update_authenticator_counter(credential_id, created["counter"]) == created
