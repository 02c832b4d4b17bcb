"""Deleting expired sessions and verification tokens, in small batches, while the app serves.

::

    from peewee_authjs.cleanup import delete_expired

    result = delete_expired(adapter)            # or a Database, or a URL
    print(result)                               # 1,204 sessions and 17 verification tokens deleted ...

Auth.js deletes an expired session only when its owner comes back; sessions of
people who never return stay forever. Run this from cron, or
``peewee-authjs cleanup URL``.

A row is expired when ``expires < now`` (Auth.js's rule: a session that expires
exactly now is still valid). Each batch is one ``DELETE`` of at most
``batch_size`` rows, its own short transaction, so the app's reads and writes go
on in between; on SQLite, where a writer locks the whole database, the cleaner
also pauses between batches (as long as the batch took) so that the app's
writers are never starved. The condition is checked again by the ``DELETE``
itself, so a session the app extends meanwhile is kept.

On SQLite the column holds text: a row is deleted when its text sorts before
``now``'s (which uses the index on ``expires``) *and* SQLite's ``julianday()``
reads it as an earlier instant. Text it cannot read is never deleted (Auth.js
does not count an unreadable expiry as expired either).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from typing import TextIO

from peewee import Database
from peewee import DatabaseProxy
from peewee import Model
from peewee import PeeweeException
from peewee import fn

from peewee_authjs.adapter import PeeweeAdapter
from peewee_authjs.errors import InvalidInputError
from peewee_authjs.fields import datetime_encoder
from peewee_authjs.fields import dialect_of
from peewee_authjs.fields import utcnow
from peewee_authjs.queries import expired_before
from peewee_authjs.statements import Statement
from peewee_authjs.statements import slot
from peewee_authjs.validation import check_datetime
from peewee_authjs.validation import check_int

#: Rows per DELETE by default: a few milliseconds of write lock on SQLite.
DEFAULT_BATCH_SIZE = 1000
#: The longest pause between two batches on SQLite (seconds).
MAX_PAUSE = 0.05

#: ``progress(table, deleted_so_far, expected)``, called after every batch; ``expected`` is the
#: number of expired rows counted when the table's turn began.
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class CleanupResult:
    """What :func:`delete_expired` did."""

    #: Expired sessions deleted.
    sessions: int
    #: Expired verification tokens deleted.
    verification_tokens: int
    #: DELETE statements run (each its own transaction).
    batches: int
    #: Wall time, pauses included.
    seconds: float

    @property
    def total(self) -> int:
        """Rows deleted in all."""
        return self.sessions + self.verification_tokens

    def __str__(self) -> str:
        return (
            f"{self.sessions:,} expired sessions and {self.verification_tokens:,} expired verification "
            f"tokens deleted in {self.batches:,} batches, {self.seconds:.1f} s"
        )


class _Table:
    """The count and batch-delete statements of one table, for one database."""

    def __init__(self, database: Database, model: type[Model], batch_size: int) -> None:
        self.database = database
        self.name = str(model._meta.table_name)
        dialect = dialect_of(database)
        meta: Any = model._meta
        expires: Any = meta.fields["expires"]
        key: Any = meta.primary_key
        expired = expired_before(expires, slot("now"), database)
        self.count = Statement(database, model.select(fn.COUNT(key)).where(expired), args=("now",))
        if dialect == "mysql":
            # MySQL cannot LIMIT a subquery of IN, but deletes with a LIMIT of its own.
            delete = model.delete().where(expired).limit(batch_size)
        else:
            batch = model.select(key).where(expired).limit(batch_size)
            delete = model.delete().where(expired & key.in_(batch))
        self.delete = Statement(database, delete, args=("now",))


def _resolve(target: PeeweeAdapter | Database | DatabaseProxy | str) -> PeeweeAdapter:
    if isinstance(target, PeeweeAdapter):
        return target
    return PeeweeAdapter(target)


def delete_expired(
    target: PeeweeAdapter | Database | DatabaseProxy | str,
    *,
    now: datetime | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    pause: float | None = None,
    progress: Progress | None = None,
) -> CleanupResult:
    """Delete the sessions and verification tokens that expired before ``now``; what was deleted.

    :param target: a :class:`~peewee_authjs.PeeweeAdapter` (its models, custom ones included,
        name the tables), a Peewee database, or a database URL.
    :param now: the instant before which a row is expired (aware; default: the current time).
    :param batch_size: the most rows one DELETE (one transaction) removes.
    :param pause: seconds to sleep after each batch; default: as long as the batch took, at most
        :data:`MAX_PAUSE`, on SQLite, and none on servers with row locks.
    :param progress: called after every batch with ``(table, deleted so far, expected)``.

    Raises :class:`~peewee_authjs.InvalidInputError` for a naive ``now`` or a ``batch_size``
    below 1, and :class:`~peewee_authjs.BackendError` when the database fails.
    """
    started = time.perf_counter()
    size = check_int(batch_size, "batch_size", (1, 1_000_000))
    if pause is not None and not pause >= 0:
        raise InvalidInputError("pause: must be a number of seconds, 0 or more", "pause")
    instant = utcnow() if now is None else check_datetime(now, "now")
    adapter = _resolve(target)
    database = adapter._db()
    if database is None:
        raise InvalidInputError("target: the DatabaseProxy is not initialised", "target")
    dialect = dialect_of(database)
    values = (datetime_encoder(dialect)(instant),)
    deleted: dict[str, int] = {}
    batches = 0
    for model in (adapter.models.Session, adapter.models.VerificationToken):
        table = _Table(database, model, size)
        try:
            deleted[table.name], used = _clean(table, values, size, pause, dialect, progress)
        except PeeweeException as exc:
            adapter._fail(exc, "cleanup")
        batches += used
    return CleanupResult(
        sessions=deleted[str(adapter.models.Session._meta.table_name)],
        verification_tokens=deleted[str(adapter.models.VerificationToken._meta.table_name)],
        batches=batches,
        seconds=time.perf_counter() - started,
    )


def _clean(
    table: _Table,
    values: tuple[Any, ...],
    size: int,
    pause: float | None,
    dialect: str,
    progress: Progress | None,
) -> tuple[int, int]:
    """Delete ``table``'s expired rows batch by batch; (rows deleted, batches run)."""
    database = table.database
    expected = 0
    if progress is not None:
        expected = int(table.count.execute(database, values).fetchone()[0])
        progress(table.name, 0, expected)
    total = batches = 0
    while True:
        batch_started = time.perf_counter()
        count = table.delete.run(database, values)
        batches += 1
        total += count
        if progress is not None:
            progress(table.name, total, max(expected, total))
        if count < size:
            return total, batches
        wait = pause
        if wait is None:
            wait = min(MAX_PAUSE, time.perf_counter() - batch_started) if dialect == "sqlite" else 0.0
        if wait:
            time.sleep(wait)


class ProgressBar:
    """A :data:`Progress` that draws one self-overwriting line per table on a terminal.

    :param stream: where to draw (default: standard error).
    :param width: the bar's width in characters.
    """

    def __init__(self, stream: TextIO | None = None, width: int = 30) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self._table: str | None = None

    def __call__(self, table: str, done: int, expected: int) -> None:
        if self._table is not None and table != self._table:
            self.stream.write("\n")
        self._table = table
        share = done / expected if expected else 1.0
        filled = int(self.width * share)
        bar = "#" * filled + "-" * (self.width - filled)
        self.stream.write(f"\r{table:<20} [{bar}] {done:>12,}/{expected:,}")
        self.stream.flush()

    def close(self) -> None:
        """End the last line."""
        if self._table is not None:
            self.stream.write("\n")
            self.stream.flush()


__all__ = [
    "DEFAULT_BATCH_SIZE",
    "MAX_PAUSE",
    "CleanupResult",
    "Progress",
    "ProgressBar",
    "delete_expired",
]
