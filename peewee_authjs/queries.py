"""Queries beyond the Auth.js contract, for the sign-in rules (sessions, e-mail links).

They are built with the adapter's bound models and run as the adapter runs its own
(:class:`peewee_authjs.statements.Statement`): the SQL is rendered once per database,
and only its text is logged (logger ``peewee_authjs.sql``), never the parameters,
which hold session tokens and token hashes. Peewee's own query logging would print them.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Sequence
from contextlib import AbstractContextManager
from contextlib import contextmanager
from typing import Any

from peewee import Database
from peewee import Field
from peewee import Node
from peewee import PeeweeException
from peewee import fn

from peewee_authjs.adapter import PeeweeAdapter
from peewee_authjs.errors import BackendError
from peewee_authjs.fields import dialect_of
from peewee_authjs.statements import Statement
from peewee_authjs.statements import column_key


def database_of(adapter: PeeweeAdapter) -> Database:
    """The adapter's database (the initialised object behind a ``DatabaseProxy``)."""
    real = adapter._db()
    if real is None:
        raise BackendError("the DatabaseProxy given to PeeweeAdapter is not initialised")
    return real


def write_transaction(adapter: PeeweeAdapter) -> AbstractContextManager[Any]:
    """One transaction on the adapter's database, for a read-then-write sequence.

    The adapter's own: on SQLite it takes the write lock at once (``BEGIN IMMEDIATE``), so
    that two such sequences queue on ``busy_timeout`` instead of failing when both try to
    upgrade a read lock. Nested, it is a savepoint.
    """
    return adapter._transaction(adapter._c())


@contextmanager
def database_errors(adapter: PeeweeAdapter, operation: str) -> Iterator[None]:
    """Turn a Peewee error of one of these queries into the library's, as the adapter does.

    The adapter's translation: a typed error that quotes no value, and a lost connection
    closed so that the next call reconnects.
    """
    try:
        yield
    except PeeweeException as exc:
        adapter._fail(exc, operation)


def expired_before(expires: Any, now: Any, database: Database) -> Any:
    """The condition "``expires`` lies before ``now``" for a datetime column, right on every backend.

    On SQLite the column holds text: comparing texts finds the candidates through the index, and
    ``julianday()`` decides, so that text written with another offset (``...-05:00``) is read as the
    instant it names, and text it cannot read never counts as expired.
    """
    condition = expires < now
    if dialect_of(database) == "sqlite":
        condition = condition & (fn.julianday(expires) < fn.julianday(now))
    return condition


def row_reader(fields: Sequence[Field]) -> tuple[list[str], dict[str, Callable[[Any], Any]]]:
    """The record keys of ``fields`` and their decoders, for a :class:`Statement` selecting them."""
    keys = [column_key(field) for field in fields]
    return keys, {key: field.python_value for key, field in zip(keys, fields, strict=True)}


class Queries:
    """Statements built on first use, once per database the adapter is on.

    :meth:`get` takes a name and a function building the Peewee query (with
    :func:`~peewee_authjs.statements.slot` holes) plus its columns and decoders.
    """

    def __init__(self, adapter: PeeweeAdapter) -> None:
        self.adapter = adapter
        self._database: Database | None = None
        self._cache: dict[str, Statement] = {}

    def database(self) -> Database:
        """The database the statements run on (the cache is dropped when it changes)."""
        db = database_of(self.adapter)
        if db is not self._database:
            self._database = db
            self._cache = {}
        return db

    def get(
        self,
        name: str,
        build: Callable[[], Node],
        columns: Sequence[str] = (),
        decoders: dict[str, Callable[[Any], Any]] | None = None,
    ) -> Statement:
        """The statement called ``name``, built by ``build()`` the first time."""
        db = self.database()
        statement = self._cache.get(name)
        if statement is None:
            statement = self._cache[name] = Statement(db, build(), columns, decoders)
        return statement


__all__ = ["Queries", "database_errors", "database_of", "expired_before", "row_reader", "write_transaction"]
