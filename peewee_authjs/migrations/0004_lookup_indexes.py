"""Index the columns Auth.js searches and deletes by, which Sequelize left unindexed.

- ``accounts.user_id``, ``sessions.user_id``: the cascades of ``deleteUser`` and
  the lookups of a user's accounts and sessions;
- ``sessions.expires``, ``verification_tokens.expires``: purging expired rows;
- ``verification_tokens.identifier``: ``useVerificationToken``.

An index already serving a column (any name, e.g. the one MySQL's InnoDB makes
for every foreign key) counts, so on MySQL the ``user_id`` indexes usually exist.
Creating an index locks the table against writes for the time it takes (seconds
for a million rows).
"""

from __future__ import annotations

from typing import Any

from peewee import Database

from peewee_authjs.fields import dialect_of
from peewee_authjs.migrate import drop_index_if_exists
from peewee_authjs.migrate import ensure_index

INDEXES = (
    ("accounts", "user_id"),
    ("sessions", "user_id"),
    ("sessions", "expires"),
    ("verification_tokens", "identifier"),
    ("verification_tokens", "expires"),
)


def up(migrator: Any, db: Database) -> None:
    """Create each index that no existing index provides."""
    for table, column in INDEXES:
        ensure_index(migrator, table, (column,))


def down(migrator: Any, db: Database) -> None:
    """Drop the indexes by their peewee-authjs names; MySQL keeps foreign-key ones (InnoDB needs them)."""
    for table, column in reversed(INDEXES):
        if column == "user_id" and dialect_of(db) == "mysql":
            continue
        drop_index_if_exists(migrator, table, f"{table}_{column}")
