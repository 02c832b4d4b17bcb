"""OAuth/OIDC sign-in rules (Auth.js's ``handleLoginOrRegister``) over the adapter.

The protocol (redirects, state, PKCE, token exchange, userinfo) is left to an OAuth
client such as Authlib (see ``docs/oauth.md``); this module decides what the result
means for the database::

    token = oauth.example.authorize_access_token()                 # Authlib
    profile = profile_from_userinfo(token["userinfo"])             # {"id", "name", "email", "image"}
    account = account_from_token(provider="example", type="oidc",
                                 provider_account_id=profile["id"], token=token)
    result = handle_oauth_sign_in(adapter, sessions, profile=profile, account=account,
                                  session_token=current_cookie_value)
    # result.user, result.session (set its cookie), result.is_new_user, result.account_linked

The rules (``@auth/core``, ``lib/actions/callback/handle-login.ts``):

1. the account is linked already: its user is signed in with a new session; when
   someone else is signed in, :class:`OAuthAccountNotLinkedError`; when its own user
   is signed in, nothing changes;
2. someone is signed in: the account is linked to them (and they stay signed in);
3. the profile's e-mail belongs to a user: :class:`OAuthAccountNotLinkedError`, unless
   ``allow_dangerous_email_account_linking`` (then the account is linked to that user);
4. otherwise a user is created from the profile (e-mail lowercased, ``email_verified``
   None), the account linked to them and a session started.

Each sign-in is one transaction. When two first sign-ins of the same account race,
the loser's transaction fails (on a unique key, or because the winner's user showed
up between its look-ups) and is rolled back, and the rules run once more in a new
transaction: the loser then signs in as the winner's user.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from typing import cast

from peewee_authjs.adapter import PeeweeAdapter
from peewee_authjs.contract import AdapterSession
from peewee_authjs.contract import AdapterUser
from peewee_authjs.errors import DuplicateError
from peewee_authjs.errors import InvalidInputError
from peewee_authjs.errors import OAuthAccountNotLinkedError
from peewee_authjs.fields import utcnow
from peewee_authjs.queries import write_transaction
from peewee_authjs.sessions import SessionManager
from peewee_authjs.sessions import now_from

#: The token fields Auth.js's default ``account()`` keeps in ``accounts``.
TOKEN_FIELDS = (
    "access_token",
    "id_token",
    "refresh_token",
    "expires_at",
    "scope",
    "token_type",
    "session_state",
)
#: Auth.js's account types.
ACCOUNT_TYPES = ("oauth", "oidc", "email", "webauthn")


def _account_id(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str) or not value:
        raise InvalidInputError("provider_account_id: expected a non-empty string", "provider_account_id")
    return value


def account_from_token(
    *,
    provider: str,
    type: str,
    provider_account_id: str | int,
    token: Mapping[str, Any],
    clock: Callable[[], datetime] = utcnow,
) -> dict[str, Any]:
    """The ``accounts`` record for a token response, as Auth.js's default ``account()`` makes it.

    Keeps only :data:`TOKEN_FIELDS` (absent or None ones left out). ``expires_at`` is
    absolute unix seconds: taken from the token when present (Authlib computes it),
    else ``floor(now) + expires_in``. ``provider_account_id`` may be an int (GitHub ids are).
    """
    if type not in ACCOUNT_TYPES:
        raise InvalidInputError(f"type: must be one of {', '.join(ACCOUNT_TYPES)}", "type")
    if not isinstance(provider, str) or not provider:
        raise InvalidInputError("provider: expected a non-empty string", "provider")
    record: dict[str, Any] = {
        "provider": provider,
        "type": type,
        "provider_account_id": _account_id(provider_account_id),
    }
    for key in TOKEN_FIELDS:
        value = token.get(key)
        if value is not None:
            record[key] = value
    expires_in = token.get("expires_in")
    if "expires_at" in record:
        record["expires_at"] = _whole_seconds(record["expires_at"], "expires_at")
    elif expires_in is not None:
        now = now_from(clock)
        record["expires_at"] = math.floor(now.timestamp()) + _whole_seconds(expires_in, "expires_in")
    return record


def _whole_seconds(value: Any, name: str) -> int:
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        try:
            return int(value)
        except ValueError:  # "--5", "²", more digits than int() reads: not a number of seconds
            raise InvalidInputError(f"{name}: expected a number of seconds", name) from None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidInputError(f"{name}: expected a number of seconds", name)
    return math.floor(value)


def profile_from_userinfo(userinfo: Mapping[str, Any]) -> dict[str, Any]:
    """Auth.js's default OIDC ``profile()``: ``id`` (``sub``, else ``id``), ``name`` (or
    ``nickname``, ``preferred_username``), ``email`` and ``image`` (``picture``)."""
    subject = userinfo.get("sub", userinfo.get("id"))
    return {
        "id": None if subject is None else _account_id(subject),
        "name": userinfo.get("name") or userinfo.get("nickname") or userinfo.get("preferred_username"),
        "email": userinfo.get("email"),
        "image": userinfo.get("picture"),
    }


@dataclass
class OAuthSignIn:
    """The outcome of :func:`handle_oauth_sign_in`.

    ``session`` is the session to put in the cookie: a new one, or the current one
    when the user was signed in already. ``account_linked`` is true when this call
    wrote the ``accounts`` row.
    """

    user: AdapterUser
    session: AdapterSession | None
    is_new_user: bool
    account_linked: bool


def _new_user_record(adapter: PeeweeAdapter, profile: Mapping[str, Any], email: str | None) -> dict[str, Any]:
    """The profile's keys that are columns of the User model (minus the provider's ``id``)."""
    columns = {str(field.column_name) for field in adapter.models.User._meta.sorted_fields}
    record = {
        key: value
        for key, value in profile.items()
        if key in columns and key not in ("id", "email", "email_verified") and value is not None
    }
    record["email"] = email
    record["email_verified"] = None
    return record


def handle_oauth_sign_in(
    adapter: PeeweeAdapter,
    sessions: SessionManager,
    *,
    profile: Mapping[str, Any],
    account: Mapping[str, Any],
    session_token: str | None = None,
    allow_dangerous_email_account_linking: bool = False,
) -> OAuthSignIn:
    """Sign in (or register, or link) with an OAuth account, by Auth.js's rules (module docstring).

    :param profile: the user as the provider describes them (``name``, ``email``,
        ``image``, and other keys that are columns of your User model; other keys
        and the provider's ``id`` are not stored on the user).
    :param account: the ``accounts`` record, e.g. from :func:`account_from_token`
        (``provider``, ``type``, ``provider_account_id`` and token fields; no ``user_id``).
    :param session_token: the request's session cookie, if any: who is signed in.
    :param allow_dangerous_email_account_linking: link to the user who has the
        profile's e-mail address instead of refusing. Only for providers that verify
        addresses: otherwise anyone can take over an account by claiming its address.

    Raises :class:`OAuthAccountNotLinkedError` (nothing written) as the rules say.
    """
    for key in ("provider", "provider_account_id", "type"):
        if not account.get(key):
            raise InvalidInputError(f"account.{key}: missing", f"account.{key}")
    email = profile.get("email")
    if email is not None and not isinstance(email, str):
        raise InvalidInputError("profile.email: expected a string", "profile.email")
    current = sessions.read(session_token) if session_token else None
    try:
        return _sign_in(adapter, sessions, profile, account, current, allow_dangerous_email_account_linking)
    except (DuplicateError, OAuthAccountNotLinkedError):
        # Maybe a concurrent first sign-in of the same account won: our insert hit its
        # user or account row (DuplicateError), or its user appeared between our account
        # and e-mail look-ups (under READ COMMITTED). Our transaction was rolled back
        # whole; run the rules once more, in a new transaction, over what it committed.
        return _sign_in(adapter, sessions, profile, account, current, allow_dangerous_email_account_linking)


def _sign_in(
    adapter: PeeweeAdapter,
    sessions: SessionManager,
    profile: Mapping[str, Any],
    account: Mapping[str, Any],
    current: Any,
    allow_email_linking: bool,
) -> OAuthSignIn:
    provider = str(account["provider"])
    provider_account_id = _account_id(account["provider_account_id"])
    record = {**account, "provider_account_id": provider_account_id}
    with write_transaction(adapter):
        owner = adapter.get_user_by_account(provider, provider_account_id)
        if owner is not None:
            if current is not None:
                if current["user"]["id"] == owner["id"]:
                    return OAuthSignIn(owner, current["session"], is_new_user=False, account_linked=False)
                raise OAuthAccountNotLinkedError(
                    "this account is linked to another user than the one signed in"
                )
            return OAuthSignIn(owner, sessions.start(owner["id"]), is_new_user=False, account_linked=False)
        if current is not None:
            user = cast(AdapterUser, current["user"])
            adapter.link_account({**record, "user_id": user["id"]})
            return OAuthSignIn(user, current["session"], is_new_user=False, account_linked=True)
        email = profile.get("email")
        email = email.lower() if isinstance(email, str) and email else None
        existing = adapter.get_user_by_email(email) if email else None
        if existing is not None:
            if not allow_email_linking:
                raise OAuthAccountNotLinkedError(
                    "another user has this account's e-mail address; sign in as them to link it"
                )
            user, is_new = existing, False
        else:
            user, is_new = adapter.create_user(_new_user_record(adapter, profile, email)), True
        adapter.link_account({**record, "user_id": user["id"]})
        return OAuthSignIn(user, sessions.start(user["id"]), is_new_user=is_new, account_linked=True)


__all__ = [
    "ACCOUNT_TYPES",
    "OAuthSignIn",
    "TOKEN_FIELDS",
    "account_from_token",
    "handle_oauth_sign_in",
    "profile_from_userinfo",
]
