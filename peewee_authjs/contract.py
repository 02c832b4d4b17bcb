"""The Auth.js adapter contract, as Python types.

Records are plain dicts keyed by the snake_case column names of the tables that
``@auth/sequelize-adapter`` creates. Datetimes are timezone-aware UTC. A record
returned by the adapter carries every column, ``None`` where empty.

:class:`Adapter` states each method's rule; :class:`peewee_authjs.PeeweeAdapter`
implements it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from typing import Protocol
from typing import TypedDict


class AdapterUser(TypedDict, total=False):
    """A row of ``users`` (custom models add their own keys)."""

    id: str
    name: str | None
    email: str | None
    email_verified: datetime | None
    image: str | None


class AdapterAccount(TypedDict, total=False):
    """A row of ``accounts``: one OAuth/OIDC/email/WebAuthn identity of a user."""

    id: str
    user_id: str
    type: str
    provider: str
    provider_account_id: str
    refresh_token: str | None
    access_token: str | None
    expires_at: int | None
    token_type: str | None
    scope: str | None
    id_token: str | None
    session_state: str | None


class AdapterSession(TypedDict, total=False):
    """A row of ``sessions``: a database session, found by its token."""

    id: str
    session_token: str
    user_id: str
    expires: datetime


class VerificationToken(TypedDict):
    """A row of ``verification_tokens``; ``token`` is the hashed token."""

    identifier: str
    token: str
    expires: datetime


class AdapterAuthenticator(TypedDict, total=False):
    """A row of ``authenticators``: a WebAuthn credential of a user."""

    credential_id: str
    user_id: str
    provider_account_id: str
    credential_public_key: str
    counter: int
    credential_device_type: str
    credential_backed_up: bool
    transports: str | None


class SessionAndUser(TypedDict):
    """What :meth:`Adapter.get_session_and_user` returns."""

    session: AdapterSession
    user: AdapterUser


class Adapter(Protocol):
    """The Auth.js database adapter contract (``packages/core/src/adapters.ts``), in snake_case."""

    def create_user(self, user: AdapterUser | dict[str, Any]) -> AdapterUser:
        """Insert a user and return it; an ``id`` is generated when none is given."""
        ...

    def get_user(self, id: str) -> AdapterUser | None:
        """The user with this id, or None."""
        ...

    def get_user_by_email(self, email: str) -> AdapterUser | None:
        """The user with this e-mail, or None."""
        ...

    def get_user_by_account(self, provider: str, provider_account_id: str) -> AdapterUser | None:
        """The user who owns this provider account, or None."""
        ...

    def update_user(self, user: AdapterUser | dict[str, Any]) -> AdapterUser | None:
        """Change the given fields of the user named by ``id``; None when there is no such user."""
        ...

    def delete_user(self, user_id: str) -> AdapterUser | None:
        """Delete the user with its accounts, sessions and authenticators; the deleted user, or None."""
        ...

    def link_account(self, account: AdapterAccount | dict[str, Any]) -> AdapterAccount:
        """Insert an account for an existing user and return it."""
        ...

    def unlink_account(self, provider: str, provider_account_id: str) -> AdapterAccount | None:
        """Delete this provider account; the deleted account, or None."""
        ...

    def get_account(self, provider: str, provider_account_id: str) -> AdapterAccount | None:
        """This provider account, or None."""
        ...

    def create_session(self, session: AdapterSession | dict[str, Any]) -> AdapterSession:
        """Insert a session for an existing user and return it."""
        ...

    def get_session_and_user(self, session_token: str) -> SessionAndUser | None:
        """The session and its user in one statement, or None; expired sessions are returned too."""
        ...

    def update_session(self, session: AdapterSession | dict[str, Any]) -> AdapterSession | None:
        """Change the given fields of the session named by ``session_token``; None when there is none."""
        ...

    def delete_session(self, session_token: str) -> AdapterSession | None:
        """Delete the session; the deleted session, or None (never raises for a missing one)."""
        ...

    def create_verification_token(self, token: VerificationToken | dict[str, Any]) -> VerificationToken:
        """Insert a (hashed) verification token and return it."""
        ...

    def use_verification_token(self, identifier: str | None, token: str) -> VerificationToken | None:
        """Delete exactly the matching token and return it, or None; atomic, single use."""
        ...

    def create_authenticator(
        self, authenticator: AdapterAuthenticator | dict[str, Any]
    ) -> AdapterAuthenticator:
        """Insert a WebAuthn authenticator and return it; raises when it cannot."""
        ...

    def get_authenticator(self, credential_id: str) -> AdapterAuthenticator | None:
        """The authenticator with this credential id, or None."""
        ...

    def list_authenticators_by_user_id(self, user_id: str) -> list[AdapterAuthenticator]:
        """The user's authenticators; an empty list for an unknown user."""
        ...

    def update_authenticator_counter(self, credential_id: str, new_counter: int) -> AdapterAuthenticator:
        """Set the signature counter and return the authenticator; NotFoundError when unknown."""
        ...
