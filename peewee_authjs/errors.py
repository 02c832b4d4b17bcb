"""The exceptions of peewee-authjs.

Every error the adapter raises is an :class:`AdapterError`. Messages name the
field or key at fault, never its value: tokens, secrets and e-mail addresses do
not end up in logs through an exception.
"""

from __future__ import annotations


class AdapterError(Exception):
    """Base class of every error raised by peewee-authjs."""


class InvalidInputError(AdapterError, ValueError):
    """A record or argument is malformed; nothing was written.

    ``field`` names the offending key (``None`` when the whole record is at fault).
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        #: The record key or argument name at fault.
        self.field = field


class DuplicateError(AdapterError):
    """A unique key already holds this value; nothing was written.

    ``table`` and ``key`` name the table and the unique key (its column names,
    comma-joined), e.g. ``users`` / ``email``.
    """

    def __init__(self, message: str, table: str | None = None, key: str | None = None) -> None:
        super().__init__(message)
        #: The table whose unique key was violated.
        self.table = table
        #: The columns of the violated key, comma-joined.
        self.key = key


class NotFoundError(AdapterError, LookupError):
    """A record the operation needs does not exist (where Auth.js says the adapter must throw)."""


class BackendError(AdapterError):
    """The database could not carry out the operation (connection lost, locked, timed out).

    The transaction was rolled back; the original driver error is kept as ``__cause__``.
    """


class MigrationError(AdapterError):
    """The schema could not be migrated; the message says why and what to do.

    Raised before anything is changed when the database cannot be adopted
    (e.g. duplicate accounts), or when a migration step failed (the driver's
    error is kept as ``__cause__``).
    """


class SignInError(AdapterError):
    """A sign-in was refused; nothing of it was written (no user, account or session).

    The message says why in general terms (no token, address or id in it), so it
    can be logged; show users a generic page, as Auth.js does.
    """


class VerificationError(SignInError):
    """An e-mail sign-in link is unknown, used already, expired, or for another address.

    Auth.js's ``Verification`` error: the cases are not told apart to the user;
    ``reason`` (``"unknown"`` or ``"expired"``) is for logs and tests.
    """

    def __init__(self, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        #: ``"unknown"`` (no such token for this address: wrong, tampered, used) or ``"expired"``.
        self.reason = reason


class OAuthAccountNotLinkedError(SignInError):
    """The OAuth account cannot be signed in with here (Auth.js's ``OAuthAccountNotLinked``).

    Either its e-mail address belongs to another user and dangerous e-mail account
    linking is off, or the account is linked to a user other than the one signed in.
    """


class ConfigurationError(AdapterError):
    """A required setting is missing or invalid; ``setting`` names it (e.g. ``AUTHJS_SECRET``)."""

    def __init__(self, message: str, setting: str | None = None) -> None:
        super().__init__(message)
        #: The name of the setting at fault.
        self.setting = setting


__all__ = [
    "AdapterError",
    "BackendError",
    "ConfigurationError",
    "DuplicateError",
    "InvalidInputError",
    "MigrationError",
    "NotFoundError",
    "OAuthAccountNotLinkedError",
    "SignInError",
    "VerificationError",
]
