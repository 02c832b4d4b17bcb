"""MySQL/MariaDB: convert the Auth.js tables to ``utf8mb4`` with a binary NO PAD collation.

The collation is ``migrate.mysql_collation(db)``: ``utf8mb4_nopad_bin`` on MariaDB,
``utf8mb4_0900_bin`` on MySQL 8, ``utf8mb4_bin`` on older MySQL (which ignores
trailing spaces in comparisons); the module keeps its first name.

``sequelize.sync()`` creates its tables with the database's default character
set: ``latin1``, ``utf8mb3`` or a case-insensitive ``utf8mb4_*_ci``. Tables made by
peewee-authjs use that collation, so that names and e-mail addresses hold any
character, and tokens, provider account ids and e-mail addresses compare exactly,
as they do on PostgreSQL and SQLite. Nothing to do on other backends, nor on
tables that already use it (a fresh database). It runs first because
a foreign key and the column it references must share a character set: the
``authenticators`` table that 0002 creates references ``users.id``.

Why it is safe:

- every ``latin1``/``utf8mb3`` character exists in ``utf8mb4``: no text changes;
- a key that was unique under a ``*_ci`` collation stays unique under ``_bin``;
- the one lookup that relied on case-insensitivity is by e-mail, and Auth.js
  (OAuth and e-mail sign-in) and this adapter store and look up e-mail addresses
  lowercased. ``check`` refuses a ``users`` table holding an address that is not
  lowercase: under ``_bin`` that user would no longer be found, and would get a
  second account at the next sign-in. Lowercase those rows first;
- the server refuses to change the character set of a column a foreign key
  uses, so the keys between Auth.js tables (``accounts.user_id``,
  ``sessions.user_id``) are dropped for the conversion and re-created as they
  were. A run that fails (or is killed) halfway cannot re-create a key between
  a converted and an unconverted table; the next run converts the rest and
  re-creates every missing ``user_id -> users.id`` key (ON DELETE CASCADE); ``check`` refuses when a table of your own references a column whose
  character set changes (drop that key, migrate, convert your table, re-add it).

``TEXT`` columns keep their type (a plain ``CONVERT TO`` would promote them to
``MEDIUMTEXT``); ``COMPACT``/``REDUNDANT`` tables become ``DYNAMIC``, whose
3072-byte key limit the ``(provider, provider_account_id)`` unique key needs.
Foreign-key checks are off during the conversion (session-wide, restored after).
``down`` leaves the conversion in place: the old collation is not recorded.
"""

from __future__ import annotations

from typing import Any
from typing import NamedTuple

from peewee import Database
from peewee import PeeweeException

from peewee_authjs.errors import MigrationError
from peewee_authjs.fields import dialect_of
from peewee_authjs.migrate import exact_text
from peewee_authjs.migrate import execute
from peewee_authjs.migrate import fetch
from peewee_authjs.migrate import logger
from peewee_authjs.migrate import mysql_collation
from peewee_authjs.migrate import quote

TABLES = ("users", "accounts", "sessions", "verification_tokens", "authenticators")
#: The tables whose ``user_id`` references ``users.id`` (ON DELETE CASCADE, as Sequelize declares it).
USER_KEY_TABLES = ("accounts", "sessions", "authenticators")
#: The collation ``exact_text`` compares in (the tables end with ``mysql_collation(db)``).
COMPARE = "utf8mb4_bin"
TEXT_TYPES = ("tinytext", "text", "mediumtext")
SHOWN = 20


def _conversions(db: Database) -> dict[str, list[str]]:
    """The ALTER TABLE clauses of each table that needs converting."""
    marks = ", ".join(["%s"] * len(TABLES))
    tables = fetch(
        db,
        "SELECT TABLE_NAME, TABLE_COLLATION, ROW_FORMAT FROM information_schema.TABLES "
        f"WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN ({marks})",
        TABLES,
    )
    columns = fetch(
        db,
        "SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, DATA_TYPE, COLLATION_NAME, IS_NULLABLE, COLUMN_DEFAULT "
        f"FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN ({marks}) "
        "ORDER BY TABLE_NAME, ORDINAL_POSITION",
        TABLES,
    )
    target = mysql_collation(db)
    result: dict[str, list[str]] = {}
    for table, collation, row_format in tables:
        own = [c for c in columns if c[0] == table]
        compact = str(row_format).lower() in ("compact", "redundant")
        if collation == target and not compact and all(c[4] in (None, target) for c in own):
            continue
        clauses = [f"CONVERT TO CHARACTER SET utf8mb4 COLLATE {target}"]
        if compact:
            clauses.append("ROW_FORMAT=DYNAMIC")
        for _, name, column_type, data_type, col_collation, nullable, default in own:
            if data_type in TEXT_TYPES and col_collation is not None and default in (None, "NULL"):
                null = "NULL" if nullable == "YES" else "NOT NULL"
                clauses.append(f"MODIFY {quote(db, name)} {column_type} {null}")
        result[str(table)] = clauses
    return result


class Reference(NamedTuple):
    """A foreign key onto an Auth.js column whose collation will change."""

    table: str
    column: str
    name: str
    target: str
    target_column: str
    on_update: str
    on_delete: str


def _changing_references(db: Database) -> list[Reference]:
    """Foreign keys referencing a column of an Auth.js table that is not in the target collation yet."""
    marks = ", ".join(["%s"] * len(TABLES))
    rows = fetch(
        db,
        "SELECT k.TABLE_NAME, k.COLUMN_NAME, k.CONSTRAINT_NAME, k.REFERENCED_TABLE_NAME, "
        "k.REFERENCED_COLUMN_NAME, r.UPDATE_RULE, r.DELETE_RULE "
        "FROM information_schema.KEY_COLUMN_USAGE k "
        "JOIN information_schema.REFERENTIAL_CONSTRAINTS r ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA "
        "AND r.TABLE_NAME = k.TABLE_NAME AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME "
        "JOIN information_schema.COLUMNS c ON c.TABLE_SCHEMA = k.TABLE_SCHEMA "
        "AND c.TABLE_NAME = k.REFERENCED_TABLE_NAME AND c.COLUMN_NAME = k.REFERENCED_COLUMN_NAME "
        f"WHERE k.TABLE_SCHEMA = DATABASE() AND k.REFERENCED_TABLE_NAME IN ({marks}) "
        f"AND c.COLLATION_NAME <> '{mysql_collation(db)}' ORDER BY 1, 2",
        TABLES,
    )
    return [Reference(*(str(value) for value in row)) for row in rows]


def check(db: Database) -> list[str]:
    """E-mails must be lowercase; no table of yours may reference a column whose collation changes."""
    if dialect_of(db) != "mysql":
        return []
    problems = []
    foreign = [ref for ref in _changing_references(db) if ref.table not in TABLES]
    if foreign:
        listed = ", ".join(f"{ref.table}.{ref.column} -> {ref.target}.{ref.target_column}" for ref in foreign)
        problems.append(
            f"foreign keys of other tables ({listed}) reference Auth.js columns whose character set "
            "changes, which MariaDB/MySQL refuse. Drop those foreign keys, run migrate, convert your "
            f"tables to utf8mb4 / {mysql_collation(db)}, then re-create the keys"
        )
    if "users" in _conversions(db):
        problems.extend(_mixed_case_emails(db))
    return problems


def _mixed_case_emails(db: Database) -> list[str]:
    email = exact_text(db, "email")
    lowered = f"LOWER(CONVERT({quote(db, 'email')} USING utf8mb4)) COLLATE {COMPARE}"
    ids = [
        str(row[0])
        for row in fetch(
            db,
            f"SELECT {quote(db, 'id')} FROM {quote(db, 'users')} "
            f"WHERE {quote(db, 'email')} IS NOT NULL AND {email} <> {lowered} ORDER BY 1",
        )
    ]
    if not ids:
        return []
    shown = ", ".join(ids[:SHOWN]) + (f" and {len(ids) - SHOWN} more" if len(ids) > SHOWN else "")
    return [
        f"users: {len(ids)} e-mail address(es) are not lowercase (user ids: {shown}). Auth.js and "
        f"peewee-authjs look addresses up lowercased, and once users uses the case-sensitive {COMPARE} "
        "collation these users would not be found. Lowercase them (UPDATE users SET email = LOWER(email) "
        "WHERE id IN (...)), then run migrate again"
    ]


def up(migrator: Any, db: Database) -> None:
    """Convert each table that is not in the target collation yet (MySQL/MariaDB only)."""
    if dialect_of(db) != "mysql":
        return
    problems = check(db)
    if problems:
        raise MigrationError("; ".join(problems))
    conversions = _conversions(db)
    if not conversions and not _lost_user_keys(db):
        return
    # The server refuses to change the character set of a column a foreign key uses (even with
    # foreign_key_checks=0): the keys between Auth.js tables are dropped and then re-created as they were.
    references = _changing_references(db)
    execute(db, "SET @authjs_foreign_key_checks = @@foreign_key_checks")
    execute(db, "SET foreign_key_checks = 0")
    dropped: list[Reference] = []
    try:
        for ref in references:
            execute(db, f"ALTER TABLE {quote(db, ref.table)} DROP FOREIGN KEY {quote(db, ref.name)}")
            dropped.append(ref)
        for table, clauses in conversions.items():
            execute(db, f"ALTER TABLE {quote(db, table)} {', '.join(clauses)}")
            logger.info("%s: converted to utf8mb4 / %s", table, mysql_collation(db))
        while dropped:
            execute(db, _add_foreign_key(db, dropped[0]))
            dropped.pop(0)
        # A run that failed halfway (or was killed) could not re-create its keys: restore them now.
        for table in _lost_user_keys(db):
            execute(
                db,
                f"ALTER TABLE {quote(db, table)} ADD FOREIGN KEY ({quote(db, 'user_id')}) "
                f"REFERENCES {quote(db, 'users')} ({quote(db, 'id')}) ON DELETE CASCADE ON UPDATE CASCADE",
            )
            logger.info("%s: foreign key user_id -> users.id restored", table)
    finally:
        try:
            # After a failure: put back what can be (a key between a converted and an unconverted
            # table cannot); running migrate again restores the rest.
            for ref in dropped:
                try:
                    execute(db, _add_foreign_key(db, ref))
                except PeeweeException:
                    logger.warning(
                        "%s.%s: foreign key not restored yet; run migrate again", ref.table, ref.column
                    )
        finally:
            execute(db, "SET foreign_key_checks = @authjs_foreign_key_checks")


def _lost_user_keys(db: Database) -> list[str]:
    """The Auth.js tables whose ``user_id`` has no foreign key onto ``users.id`` (one is always declared)."""
    marks = ", ".join(["%s"] * len(USER_KEY_TABLES))
    having = fetch(
        db,
        "SELECT DISTINCT c.TABLE_NAME FROM information_schema.COLUMNS c "
        "JOIN information_schema.KEY_COLUMN_USAGE k ON k.TABLE_SCHEMA = c.TABLE_SCHEMA "
        "AND k.TABLE_NAME = c.TABLE_NAME AND k.COLUMN_NAME = c.COLUMN_NAME "
        "AND k.REFERENCED_TABLE_NAME = 'users' AND k.REFERENCED_COLUMN_NAME = 'id' "
        f"WHERE c.TABLE_SCHEMA = DATABASE() AND c.COLUMN_NAME = 'user_id' AND c.TABLE_NAME IN ({marks})",
        USER_KEY_TABLES,
    )
    columns = fetch(
        db,
        "SELECT TABLE_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() "
        f"AND COLUMN_NAME = 'user_id' AND TABLE_NAME IN ({marks}) ORDER BY 1",
        USER_KEY_TABLES,
    )
    keyed = {str(row[0]) for row in having}
    return [str(row[0]) for row in columns if str(row[0]) not in keyed]


def _add_foreign_key(db: Database, ref: Reference) -> str:
    return (
        f"ALTER TABLE {quote(db, ref.table)} ADD CONSTRAINT {quote(db, ref.name)} "
        f"FOREIGN KEY ({quote(db, ref.column)}) REFERENCES {quote(db, ref.target)} ({quote(db, ref.target_column)}) "
        f"ON DELETE {ref.on_delete} ON UPDATE {ref.on_update}"
    )


def down(migrator: Any, db: Database) -> None:
    """Nothing: the character set and collation the tables had before are not recorded."""
