"""Widen ``accounts.access_token`` and ``accounts.refresh_token`` to ``TEXT``.

Sequelize declares them ``VARCHAR(255)``, too short for Google's and many other
providers' tokens (the sign-in then fails with "value too long").

- PostgreSQL: ``ALTER COLUMN ... TYPE TEXT``, a catalog change (no table rewrite).
- MySQL/MariaDB: ``MODIFY ... TEXT`` (the table is copied once, both columns at once).
- SQLite: nothing. SQLite never enforces a ``VARCHAR`` length and gives
  ``VARCHAR(255)`` and ``TEXT`` the same TEXT affinity, so long tokens already fit;
  changing the declared type would mean rebuilding the table (copy, drop, rename)
  for no change in behaviour, so the declaration is left as Sequelize wrote it.

``down`` does not narrow them back: that would fail on, or cut, longer tokens.
"""

from __future__ import annotations

from typing import Any

from peewee import Database

from peewee_authjs.fields import dialect_of
from peewee_authjs.migrate import execute
from peewee_authjs.migrate import logger
from peewee_authjs.migrate import quote

TABLE = "accounts"
COLUMNS = ("refresh_token", "access_token")


def up(migrator: Any, db: Database) -> None:
    """Change each token column that is not ``TEXT`` yet (PostgreSQL and MySQL)."""
    dialect = dialect_of(db)
    if dialect == "sqlite" or not db.table_exists(TABLE):
        return
    types = {column.name: column.data_type.lower() for column in db.get_columns(TABLE)}
    narrow = [column for column in COLUMNS if types.get(column) != "text"]
    if not narrow:
        return
    if dialect == "postgres":
        clauses = [f"ALTER COLUMN {quote(db, column)} TYPE TEXT" for column in narrow]
    else:
        clauses = [f"MODIFY {quote(db, column)} TEXT NULL" for column in narrow]
    execute(db, f"ALTER TABLE {quote(db, TABLE)} {', '.join(clauses)}")
    logger.info("%s: %s widened to TEXT", TABLE, ", ".join(narrow))


def down(migrator: Any, db: Database) -> None:
    """Nothing: narrowing to VARCHAR(255) would fail on, or cut, longer tokens."""
