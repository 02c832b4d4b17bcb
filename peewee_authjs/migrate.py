"""The production schema path: apply the migrations shipped in :mod:`peewee_authjs.migrations`.

::

    from peewee_authjs.migrate import migrate, status

    migrate("postgresql://app@db.internal/app")   # ['0001_mysql_utf8mb4_bin', '0002_create_tables', ...]
    status(db)                                    # [('0001_mysql_utf8mb4_bin', datetime(...)), ...]

or, from a shell, ``peewee-authjs migrate [URL]`` and ``peewee-authjs status [URL]``.

The applied migrations are recorded in the table ``authjs_migrations``. On a
database whose tables ``sequelize.sync()`` made, :func:`migrate` adopts them: it
keeps every row and adds what Sequelize left out. Before it changes anything it
asks every pending migration what would stop it (:func:`check`), e.g. two
accounts rows for the same ``(provider, provider_account_id)``, and raises
:class:`~peewee_authjs.errors.MigrationError` listing them all.

The helpers at the bottom (:func:`find_index`, :func:`ensure_index`, ...) are
what the migration scripts use to look at the live schema; they compare indexes
by their columns, never by name, since Sequelize names them differently.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Sequence
from contextlib import contextmanager
from datetime import datetime
from datetime import timezone
from typing import Any
from typing import cast

from peewee import CharField
from peewee import Database
from peewee import DatabaseProxy
from peewee import DateTimeField
from peewee import Model
from peewee import PeeweeException
from playhouse.migrate import make_index_name
from playhouse.migrations import MigrationError as RunnerError
from playhouse.migrations import Runner

from peewee_authjs.adapter import MYSQL_TABLE_SETTINGS
from peewee_authjs.database import open_database
from peewee_authjs.errors import MigrationError
from peewee_authjs.fields import dialect_of
from peewee_authjs.migrations import DIRECTORY

#: The table that records which migrations were applied, and when.
HISTORY_TABLE = "authjs_migrations"

#: What each migration does, as it does it (INFO); ``peewee-authjs migrate -v`` prints it.
logger = logging.getLogger("peewee_authjs.migrate")

UTC = timezone.utc


# --- the public entry points -----------------------------------------------------------------


def migrate(
    database_or_url: Database | DatabaseProxy | str,
    on_applied: Callable[[str], object] | None = None,
) -> list[str]:
    """Apply every pending migration in order and return their names (``[]`` when up to date).

    Nothing is changed when a pending migration reports a problem (:func:`check`):
    :class:`~peewee_authjs.errors.MigrationError` lists them all instead. A
    migration that fails is rolled back on SQLite and PostgreSQL; on MySQL (whose
    DDL is not transactional) every migration is written so that running
    ``migrate`` again after fixing the cause completes it.

    :param database_or_url: a peewee database, or a URL opened with
        :func:`peewee_authjs.database.open_database` (and closed afterwards).
    :param on_applied: called with each migration's name once it is applied and recorded.
    """
    with _opened(database_or_url) as database, _exclusive(database):
        runner = _runner(database)
        pending = _pending(runner)
        problems = _problems(database, pending)
        if problems:
            raise MigrationError(
                "the database cannot be migrated as it is; nothing was changed.\n"
                + "\n".join(f"- {problem}" for problem in problems)
            )
        applied: list[str] = []
        for migration in pending:
            logger.debug("applying %s", migration.name)
            try:
                runner.up(migration.name)
            except MigrationError:
                raise
            except (PeeweeException, RunnerError) as exc:
                raise MigrationError(_failure(database, migration.name, exc, applied)) from exc
            applied.append(migration.name)
            if on_applied is not None:
                on_applied(migration.name)
        return applied


def status(database_or_url: Database | DatabaseProxy | str) -> list[tuple[str, datetime | None]]:
    """Every migration in order, with when it was applied (aware UTC) or None when pending.

    Names recorded in the history whose scripts are gone (a downgraded package)
    are listed too, with their date.
    """
    with _opened(database_or_url) as database:
        return [(row.name, _aware(row.applied)) for row in _runner(database).status()]


def check(database_or_url: Database | DatabaseProxy | str) -> list[str]:
    """What would stop the pending migrations, one sentence each; empty when ``migrate`` can run.

    Reads only. Each problem names the table and the rows (by id) at fault,
    never a token.
    """
    with _opened(database_or_url) as database:
        return _problems(database, _pending(_runner(database)))


def revert(database_or_url: Database | DatabaseProxy | str, target: str) -> list[str]:
    """Undo the applied migrations newest first, back through ``target`` (included).

    Returns the reverted names. Reverting ``0002_create_tables`` **drops the tables and
    their rows**: this is for development and tests. Widened columns and a
    converted MySQL character set stay as they are (see each script's ``down``).
    """
    with _opened(database_or_url) as database, _exclusive(database):
        runner = _runner(database)
        try:
            reverted: list[str] = runner.down(target)
        except RunnerError as exc:
            raise MigrationError(str(exc)) from exc
        except PeeweeException as exc:
            raise MigrationError(f"reverting failed: {exc}") from exc
        for name in reverted:
            logger.info("reverted %s", name)
        return reverted


# --- running ---------------------------------------------------------------------------------


@contextmanager
def _opened(database_or_url: Database | DatabaseProxy | str) -> Iterator[Database]:
    if isinstance(database_or_url, str):
        try:
            database = open_database(database_or_url)
            database.connect()
        except (PeeweeException, RuntimeError, ValueError) as exc:
            raise MigrationError(f"cannot open the database: {exc}") from exc
        try:
            yield database
        finally:
            database.close()
        return
    database = database_or_url.obj if isinstance(database_or_url, DatabaseProxy) else database_or_url
    if database is None:
        raise MigrationError("the database proxy is not initialised")
    was_closed = database.is_closed()
    try:
        database.connect(reuse_if_open=True)
    except PeeweeException as exc:
        raise MigrationError(f"cannot open the database: {exc}") from exc
    try:
        yield database
    finally:
        if was_closed and not database.is_closed():
            database.close()


#: The name of the lock ``migrate`` holds on PostgreSQL (an advisory lock key) and MySQL (GET_LOCK).
LOCK_NAME = "peewee_authjs.migrate"
_LOCK_KEY = 0x61757468_6A736D67  # "authjsmg": a fixed 64-bit advisory lock key
_LOCK_TIMEOUT = 600


@contextmanager
def _exclusive(database: Database) -> Iterator[None]:
    """Hold a server-side lock, so that two deploys running ``migrate`` at once take turns.

    PostgreSQL: a session advisory lock; MySQL: ``GET_LOCK``. SQLite serialises
    writers itself; a second ``migrate`` there fails rather than waits.
    """
    dialect = dialect_of(database)
    release: tuple[str, tuple[Any, ...]]
    if dialect == "postgres":
        execute(database, "SELECT pg_advisory_lock(%s)", (_LOCK_KEY,))
        release = ("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY,))
    elif dialect == "mysql":
        (got,) = fetch(database, "SELECT GET_LOCK(%s, %s)", (LOCK_NAME, _LOCK_TIMEOUT))[0]
        if got != 1:
            raise MigrationError(f"another migrate held the lock {LOCK_NAME!r} for {_LOCK_TIMEOUT} s")
        release = ("SELECT RELEASE_LOCK(%s)", (LOCK_NAME,))
    else:
        yield
        return
    try:
        yield
    finally:
        execute(database, *release)


def _utcnow_naive() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _aware(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):  # SQLite text that peewee did not parse
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        raise TypeError(f"unexpected applied date {type(value).__name__}")
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _history_model(database: Database) -> type[Model]:
    # playhouse's own History, except that the date is UTC instead of the server's local time.
    settings = list(MYSQL_TABLE_SETTINGS) if dialect_of(database) == "mysql" else None

    class History(Model):
        name = CharField(unique=True)
        applied = DateTimeField(default=_utcnow_naive)

        class Meta:
            table_name = HISTORY_TABLE
            legacy_table_names = False
            table_settings = settings

    History.bind(database)
    return History


def _runner(database: Database) -> Any:
    runner = Runner(database, directory=str(DIRECTORY), table_name=HISTORY_TABLE)
    runner.History = _history_model(database)
    return runner


def _pending(runner: Any) -> list[Any]:
    return [row for row in runner.status() if row.applied is None and row.path is not None]


def _problems(database: Database, pending: Sequence[Any]) -> list[str]:
    problems: list[str] = []
    for migration in pending:
        module = migration.load()
        checker = getattr(module, "check", None)
        if checker is not None:
            problems.extend(f"{migration.name}: {problem}" for problem in checker(database))
    return problems


def _failure(database: Database, name: str, exc: BaseException, applied: list[str]) -> str:
    done = f" (applied before it: {', '.join(applied)})" if applied else ""
    if dialect_of(database) == "mysql":
        after = "MySQL cannot roll DDL back: fix the cause and run migrate again, which completes it"
    else:
        after = "it was rolled back"
    return f"migration {name} failed{done}: {str(exc).strip()}; {after}"


# --- helpers for the migration scripts -------------------------------------------------------


def quote(database: Database, name: str) -> str:
    """``name`` quoted as an identifier of ``database``'s dialect."""
    marks = str(database.quote)
    return f"{marks[0]}{name}{marks[1]}"


def execute(database: Database, sql: str, params: Sequence[Any] = ()) -> None:
    """Run one statement (DDL, or a session setting)."""
    cast(Any, database).execute_sql(sql, tuple(params))


def fetch(database: Database, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """The rows of one query, as tuples."""
    return [tuple(row) for row in cast(Any, database).execute_sql(sql, tuple(params)).fetchall()]


def exact_text(database: Database, column: str, alias: str | None = None) -> str:
    """SQL for ``column`` (of table ``alias`` if given) compared exactly, whatever its collation.

    On MySQL a ``*_ci`` collation would compare ``Abc`` equal to ``abc``; the
    expression compares as ``utf8mb4_bin``, the collation migrations end with.
    Elsewhere text already compares exactly.
    """
    name = quote(database, column) if alias is None else f"{alias}.{quote(database, column)}"
    if dialect_of(database) == "mysql":
        return f"CONVERT({name} USING utf8mb4) COLLATE utf8mb4_bin"
    return name


def find_index(database: Database, table: str, columns: Sequence[str], unique: bool = False) -> str | None:
    """The name of an index of ``table`` that serves ``columns``, or None.

    With ``unique``: a unique index (or primary key) on exactly that set of
    columns, in any order. Without: any index whose leading columns are
    ``columns`` in order (it serves the same lookups). Names are ignored.
    """
    wanted = list(columns)
    for index in database.get_indexes(table):
        found = list(index.columns or ())
        if unique:
            if index.unique and sorted(found) == sorted(wanted):
                return str(index.name)
        elif found[: len(wanted)] == wanted:
            return str(index.name)
    return None


def ensure_index(migrator: Any, table: str, columns: Sequence[str], unique: bool = False) -> str | None:
    """Create the index ``<table>_<columns>`` unless :func:`find_index` finds one; the name created or None."""
    database: Database = migrator.database
    existing = find_index(database, table, columns, unique)
    if existing is not None:
        logger.debug("%s(%s): already indexed by %s", table, ", ".join(columns), existing)
        return None
    name: str = make_index_name(table, tuple(columns))
    migrator.migrate(migrator.add_index(table, tuple(columns), unique))
    kind = "unique index" if unique else "index"
    logger.info("%s: created %s %s on (%s)", table, kind, name, ", ".join(columns))
    return name


def drop_index_if_exists(migrator: Any, table: str, name: str) -> bool:
    """Drop the index called ``name`` on ``table`` if it exists; whether it did."""
    database: Database = migrator.database
    if not database.table_exists(table):
        return False
    if name not in {index.name for index in database.get_indexes(table)}:
        return False
    migrator.migrate(migrator.drop_index(table, name))
    logger.info("%s: dropped index %s", table, name)
    return True


__all__ = [
    "HISTORY_TABLE",
    "check",
    "drop_index_if_exists",
    "ensure_index",
    "exact_text",
    "execute",
    "fetch",
    "find_index",
    "migrate",
    "quote",
    "revert",
    "status",
]
