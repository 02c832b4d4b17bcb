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


class ConflictError(BackendError):
    """The database aborted the operation for a deadlock or a serialization conflict.

    Outside a transaction of yours the adapter has already retried it a few times; inside
    one, the whole transaction was rolled back and is yours to retry.
    """


__all__ = [
    "AdapterError",
    "BackendError",
    "ConflictError",
    "DuplicateError",
    "InvalidInputError",
    "NotFoundError",
]
