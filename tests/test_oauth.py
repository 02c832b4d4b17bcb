"""OAuth sign-in rules (peewee_authjs.oauth): Auth.js's handleLoginOrRegister case by case,
the account record made from a token response, and the race of two first sign-ins."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from peewee_authjs import PeeweeAdapter
from peewee_authjs.errors import InvalidInputError
from peewee_authjs.errors import OAuthAccountNotLinkedError
from peewee_authjs.oauth import OAuthSignIn
from peewee_authjs.oauth import account_from_token
from peewee_authjs.oauth import handle_oauth_sign_in
from peewee_authjs.oauth import profile_from_userinfo
from peewee_authjs.sessions import DEFAULT_MAX_AGE
from peewee_authjs.sessions import SessionManager
from tests.clock import START
from tests.clock import Clock
from tests.helpers import count
from tests.helpers import rows

PROFILE = {"id": "gh-1", "name": "Ada Lovelace", "email": "Ada@Example.com", "image": "https://img/ada.png"}


def account(provider_account_id: str = "gh-1", provider: str = "github") -> dict[str, Any]:
    return account_from_token(
        provider=provider,
        type="oauth",
        provider_account_id=provider_account_id,
        token={"access_token": "at-1", "token_type": "bearer", "scope": "read:user", "expires_in": 3600},
        clock=lambda: START,
    )


def sign_in(adapter: PeeweeAdapter, sessions: SessionManager, **kwargs: Any) -> OAuthSignIn:
    kwargs.setdefault("profile", PROFILE)
    kwargs.setdefault("account", account())
    return handle_oauth_sign_in(adapter, sessions, **kwargs)


def table_sizes(adapter: PeeweeAdapter) -> tuple[int, int, int]:
    db = adapter.database
    return count(db, "users"), count(db, "accounts"), count(db, "sessions")


# -- account_from_token / profile_from_userinfo ---------------------------------------------------


def test_account_keeps_only_authjs_token_fields() -> None:
    """Only access_token, id_token, refresh_token, expires_at, scope, token_type, session_state are kept;
    None values are dropped; an int provider id becomes a string."""
    token = {
        "access_token": "at",
        "refresh_token": "rt",
        "id_token": "it",
        "token_type": "Bearer",
        "scope": "openid email",
        "session_state": "ss",
        "expires_at": 1772366400,
        "expires_in": 3600,
        "userinfo": {"sub": "1"},
        "not_before_policy": 0,
        "refresh_expires_in": None,
        "nonce": None,
    }
    record = account_from_token(provider="keycloak", type="oidc", provider_account_id=42, token=token)
    assert record == {
        "provider": "keycloak",
        "type": "oidc",
        "provider_account_id": "42",
        "access_token": "at",
        "refresh_token": "rt",
        "id_token": "it",
        "token_type": "Bearer",
        "scope": "openid email",
        "session_state": "ss",
        "expires_at": 1772366400,
    }
    sparse = account_from_token(
        provider="x", type="oauth", provider_account_id="1", token={"access_token": None}
    )
    assert sparse == {"provider": "x", "type": "oauth", "provider_account_id": "1"}


def test_expires_at_is_floor_now_plus_expires_in() -> None:
    """Given only expires_in, expires_at = floor(now in seconds) + expires_in (Auth.js's rule)."""
    now = START + timedelta(milliseconds=999)
    record = account_from_token(
        provider="x", type="oauth", provider_account_id="1", token={"expires_in": 3600}, clock=lambda: now
    )
    assert record["expires_at"] == int(START.timestamp()) + 3600
    as_text = account_from_token(
        provider="x", type="oauth", provider_account_id="1", token={"expires_in": "60"}, clock=lambda: now
    )
    assert as_text["expires_at"] == int(START.timestamp()) + 60


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"type": "saml"}, "type"),
        ({"provider": ""}, "provider"),
        ({"provider_account_id": ""}, "provider_account_id"),
        ({"provider_account_id": True}, "provider_account_id"),
        ({"token": {"expires_in": "soon"}}, "expires_in"),
        ({"token": {"expires_at": float("nan")}}, "expires_at"),
        ({"token": {"expires_in": "--5"}}, "expires_in"),
        ({"token": {"expires_in": "\u00b2"}}, "expires_in"),
        ({"token": {"expires_at": "9" * 5000}}, "expires_at"),
    ],
)
def test_account_from_token_refuses_bad_input(kwargs: dict[str, Any], field: str) -> None:
    """An unknown account type, an empty provider or id, or an unreadable lifetime raise, naming it."""
    arguments: dict[str, Any] = {"provider": "x", "type": "oauth", "provider_account_id": "1", "token": {}}
    arguments.update(kwargs)
    with pytest.raises(InvalidInputError) as info:
        account_from_token(**arguments)
    assert info.value.field == field


def test_profile_from_userinfo_is_authjs_default_oidc_profile() -> None:
    """sub (else id) -> id, name (else nickname, preferred_username), email, picture -> image."""
    assert profile_from_userinfo({"sub": "s1", "name": "Ada", "email": "a@x.io", "picture": "p"}) == {
        "id": "s1",
        "name": "Ada",
        "email": "a@x.io",
        "image": "p",
    }
    assert profile_from_userinfo({"id": 7, "preferred_username": "ada"}) == {
        "id": "7",
        "name": "ada",
        "email": None,
        "image": None,
    }


# -- the rules ---------------------------------------------------------------------------------


def test_new_account_creates_user_links_and_starts_session(
    adapter: PeeweeAdapter, sessions: SessionManager
) -> None:
    """Rule 4: an unknown account with an unknown e-mail creates a user (e-mail lowercased,
    email_verified None, name and image kept), links the account to them and starts a session."""
    result = sign_in(adapter, sessions)
    assert result.is_new_user and result.account_linked
    user = result.user
    assert user["email"] == "ada@example.com" and user["email_verified"] is None
    assert (user["name"], user["image"]) == ("Ada Lovelace", "https://img/ada.png")
    assert user["id"] != "gh-1"  # the provider's id is not the user's
    assert result.session is not None and result.session["user_id"] == user["id"]
    assert result.session["expires"] == START + DEFAULT_MAX_AGE
    linked = rows(
        adapter.database,
        "SELECT user_id, provider, provider_account_id, access_token, expires_at FROM accounts",
    )
    assert len(linked) == 1
    assert str(linked[0]["user_id"]) == user["id"]
    assert (linked[0]["provider"], linked[0]["provider_account_id"], linked[0]["access_token"]) == (
        "github",
        "gh-1",
        "at-1",
    )
    assert linked[0]["expires_at"] == int(START.timestamp()) + 3600
    assert table_sizes(adapter) == (1, 1, 1)


def test_linked_account_signs_in_with_a_new_session(adapter: PeeweeAdapter, sessions: SessionManager) -> None:
    """Rule 1: a known account signs its user in again: a new session, no new user or account."""
    first = sign_in(adapter, sessions)
    second = sign_in(adapter, sessions, profile={**PROFILE, "email": "changed@example.com"})
    assert second.user["id"] == first.user["id"]
    assert not second.is_new_user and not second.account_linked
    assert second.session is not None and first.session is not None
    assert second.session["session_token"] != first.session["session_token"]
    assert table_sizes(adapter) == (1, 1, 2)
    assert adapter.get_user(first.user["id"])["email"] == "ada@example.com"  # type: ignore[index]


def test_linked_account_of_the_signed_in_user_changes_nothing(
    adapter: PeeweeAdapter, sessions: SessionManager
) -> None:
    """Rule 1: signing in with an account already linked to the signed-in user keeps their session."""
    first = sign_in(adapter, sessions)
    assert first.session is not None
    again = sign_in(adapter, sessions, session_token=first.session["session_token"])
    assert again.user["id"] == first.user["id"]
    assert again.session is not None and again.session["session_token"] == first.session["session_token"]
    assert not again.account_linked and not again.is_new_user
    assert table_sizes(adapter) == (1, 1, 1)


def test_account_of_another_user_while_signed_in_is_refused(
    adapter: PeeweeAdapter, sessions: SessionManager
) -> None:
    """Rule 1: an account linked to Ada, used while Bob is signed in: OAuthAccountNotLinked, nothing written."""
    sign_in(adapter, sessions)
    bob = adapter.create_user({"email": "bob@example.com"})
    bobs = sessions.start(bob["id"])
    before = table_sizes(adapter)
    with pytest.raises(OAuthAccountNotLinkedError):
        sign_in(adapter, sessions, session_token=bobs["session_token"])
    assert table_sizes(adapter) == before
    assert sessions.read(bobs["session_token"]) is not None


def test_new_account_while_signed_in_is_linked_to_current_user(
    adapter: PeeweeAdapter, sessions: SessionManager
) -> None:
    """Rule 2: a signed-in user adding an account gets it linked, keeps their session, whatever
    the profile's e-mail says."""
    ada = adapter.create_user({"email": "ada@example.com"})
    current = sessions.start(ada["id"])
    result = sign_in(
        adapter,
        sessions,
        profile={"id": "gl-9", "email": "someone.else@example.com"},
        account=account("gl-9", "gitlab"),
        session_token=current["session_token"],
    )
    assert result.user["id"] == ada["id"] and result.account_linked and not result.is_new_user
    assert result.session is not None and result.session["session_token"] == current["session_token"]
    assert adapter.get_user_by_account("gitlab", "gl-9")["id"] == ada["id"]  # type: ignore[index]
    assert table_sizes(adapter) == (1, 1, 1)


def test_email_of_another_user_is_refused_by_default(
    adapter: PeeweeAdapter, sessions: SessionManager
) -> None:
    """Rule 3: an unknown account whose e-mail (any case) belongs to a user: OAuthAccountNotLinked,
    no account linked, no session."""
    adapter.create_user({"email": "ada@example.com"})
    with pytest.raises(OAuthAccountNotLinkedError):
        sign_in(adapter, sessions, profile={**PROFILE, "email": "ADA@EXAMPLE.COM"})
    assert table_sizes(adapter) == (1, 0, 0)


def test_dangerous_email_linking_links_to_that_user(adapter: PeeweeAdapter, sessions: SessionManager) -> None:
    """Rule 3 with allow_dangerous_email_account_linking: the account is linked to the user with the
    address, who is signed in; the user record is left as it was."""
    ada = adapter.create_user({"email": "ada@example.com", "name": "Ada"})
    result = sign_in(adapter, sessions, allow_dangerous_email_account_linking=True)
    assert result.user == ada
    assert result.account_linked and not result.is_new_user
    assert result.session is not None and result.session["user_id"] == ada["id"]
    assert table_sizes(adapter) == (1, 1, 1)


def test_expired_current_session_counts_as_signed_out(
    adapter: PeeweeAdapter, sessions: SessionManager, clock: Clock
) -> None:
    """An expired cookie is no sign-in: the new account is not linked to its user but gets its own."""
    ada = adapter.create_user({"email": "ada@example.com"})
    stale = sessions.start(ada["id"])
    clock.set(stale["expires"] + timedelta(milliseconds=1))
    result = sign_in(
        adapter,
        sessions,
        profile={"id": "gh-2", "email": "bob@example.com"},
        account=account("gh-2"),
        session_token=stale["session_token"],
    )
    assert result.is_new_user and result.user["id"] != ada["id"]
    assert count(adapter.database, "sessions", "session_token = ?", stale["session_token"]) == 0


def test_profile_keys_that_are_not_user_columns_are_not_stored(
    adapter: PeeweeAdapter, sessions: SessionManager
) -> None:
    """Raw userinfo keys (sub, locale, email_verified=True ...) do not reach the user; email_verified stays None."""
    profile = {**PROFILE, "sub": "gh-1", "locale": "en", "email_verified": True, "login": "ada"}
    result = sign_in(adapter, sessions, profile=profile)
    assert result.user["email_verified"] is None
    assert set(result.user) == {"id", "name", "email", "email_verified", "image"}


def test_profile_without_email_creates_user_without_email(
    adapter: PeeweeAdapter, sessions: SessionManager
) -> None:
    """Providers that share no address still sign in: a user with no e-mail is created."""
    result = sign_in(adapter, sessions, profile={"id": "gh-1", "name": "Anon"})
    assert result.is_new_user and result.user["email"] is None and result.user["name"] == "Anon"


@pytest.mark.parametrize("missing", ["provider", "provider_account_id", "type"])
def test_incomplete_account_is_refused(
    adapter: PeeweeAdapter, sessions: SessionManager, missing: str
) -> None:
    """An account record without provider, provider_account_id or type raises before anything is written."""
    record = account()
    del record[missing]
    with pytest.raises(InvalidInputError):
        sign_in(adapter, sessions, account=record)
    assert table_sizes(adapter) == (0, 0, 0)


def test_failed_link_rolls_back_the_new_user(adapter: PeeweeAdapter, sessions: SessionManager) -> None:
    """User creation, linking and session start are one transaction: a refused account row
    (here an over-long scope) leaves no user behind."""
    bad = {**account(), "scope": "s" * 300}
    with pytest.raises(InvalidInputError):
        sign_in(adapter, sessions, account=bad)
    assert table_sizes(adapter) == (0, 0, 0)


# -- races -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "loser_email",
    [
        "other-address@example.com",  # the loser inserts its own user, then hits the account key
        "ada@example.com",  # the loser finds the winner's user by e-mail before its account link
    ],
)
def test_lost_race_signs_in_as_the_winner(
    adapter: PeeweeAdapter, sessions: SessionManager, monkeypatch: pytest.MonkeyPatch, loser_email: str
) -> None:
    """When another sign-in links the account between our account look-up and our writes, our
    transaction rolls back (no second user) and we sign in as the winner's user."""
    winner = sign_in(adapter, sessions)
    real = adapter.get_user_by_account
    calls = {"n": 0}

    def stale_first_look(provider: str, provider_account_id: str) -> Any:
        calls["n"] += 1
        return None if calls["n"] == 1 else real(provider, provider_account_id)

    monkeypatch.setattr(adapter, "get_user_by_account", stale_first_look)
    loser = sign_in(adapter, sessions, profile={**PROFILE, "email": loser_email})
    assert calls["n"] == 2
    assert loser.user["id"] == winner.user["id"] and not loser.is_new_user
    assert count(adapter.database, "users") == 1 and count(adapter.database, "accounts") == 1


def test_concurrent_first_sign_ins_make_one_user(adapter: PeeweeAdapter, sessions: SessionManager) -> None:
    """Two threads signing in the same new account at once end with one user and one account;
    both sign in as that user."""
    barrier = threading.Barrier(2)
    results: list[OAuthSignIn] = []
    errors: list[BaseException] = []

    def go() -> None:
        barrier.wait()
        try:
            results.append(sign_in(adapter, sessions))
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            adapter.database.close()

    threads = [threading.Thread(target=go) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert len({r.user["id"] for r in results}) == 1 and len(results) == 2
    assert count(adapter.database, "users") == 1 and count(adapter.database, "accounts") == 1
    assert sorted(r.is_new_user for r in results) == [False, True]


def test_tokens_are_not_logged(
    adapter: PeeweeAdapter, sessions: SessionManager, caplog: pytest.LogCaptureFixture
) -> None:
    """Access tokens and session tokens stay out of the logs during an OAuth sign-in."""
    import logging

    with caplog.at_level(logging.DEBUG):
        result = sign_in(adapter, sessions, account={**account(), "access_token": "very-secret-access"})
    assert result.session is not None
    assert "accounts" in caplog.text
    assert "very-secret-access" not in caplog.text and result.session["session_token"] not in caplog.text


# -- the rules against a model -----------------------------------------------------------------

_step = st.tuples(
    st.sampled_from(["acct-1", "acct-2", "acct-3"]),  # provider_account_id
    st.sampled_from([None, "x@example.com", "X@Example.com", "y@example.com"]),  # profile e-mail
    st.integers(min_value=-1, max_value=3),  # which earlier session is the cookie (-1: none)
    st.booleans(),  # allow_dangerous_email_account_linking
)


@settings(max_examples=60, deadline=None)
@given(steps=st.lists(_step, min_size=1, max_size=10))
def test_rules_match_a_model(steps: list[tuple[str, str | None, int, bool]]) -> None:
    """Any sequence of OAuth sign-ins, signed in or not, gives the outcome a direct transcription of
    Auth.js's handleLoginOrRegister predicts, and leaves exactly the users, links and sessions it predicts."""
    adapter = PeeweeAdapter("sqlite:///:memory:")
    adapter.create_tables()
    sessions = SessionManager(adapter, clock=Clock())
    links: dict[str, str] = {}  # provider_account_id -> user id
    emails: dict[str, str] = {}  # lowercased e-mail -> user id
    users: set[str] = set()
    tokens: list[tuple[str, str]] = []  # (session token, user id), in creation order
    for pai, email, cookie, allow in steps:
        current = tokens[cookie] if 0 <= cookie < len(tokens) else None
        profile = {"id": pai, "email": email}
        owner = links.get(pai)
        if owner is not None and current is not None and current[1] != owner:
            expected: str | None = "refused"
        elif owner is None and current is None and email and email.lower() in emails and not allow:
            expected = "refused"
        else:
            expected = None
        try:
            result = handle_oauth_sign_in(
                adapter,
                sessions,
                profile=profile,
                account=account(pai),
                session_token=None if current is None else current[0],
                allow_dangerous_email_account_linking=allow,
            )
        except OAuthAccountNotLinkedError:
            assert expected == "refused"
            continue
        assert expected is None
        user_id = result.user["id"]
        if owner is not None:
            assert user_id == owner and not result.account_linked and not result.is_new_user
        elif current is not None:
            assert user_id == current[1] and result.account_linked and not result.is_new_user
        elif email and email.lower() in emails:
            assert user_id == emails[email.lower()] and result.account_linked and not result.is_new_user
        else:
            assert result.is_new_user and user_id not in users
            users.add(user_id)
            if email:
                emails[email.lower()] = user_id
        links.setdefault(pai, user_id)
        assert result.session is not None
        if current is not None and result.session["session_token"] == current[0]:
            assert owner == current[1] or owner is None  # kept the current session
        else:
            assert current is None
            tokens.append((result.session["session_token"], user_id))
        db = adapter.database
        assert count(db, "users") == len(users)
        assert count(db, "accounts") == len(links)
        assert count(db, "sessions") == len(tokens)
        for linked_pai, owner_id in links.items():
            assert adapter.get_user_by_account("github", linked_pai)["id"] == owner_id  # type: ignore[index]
    adapter.database.close()
