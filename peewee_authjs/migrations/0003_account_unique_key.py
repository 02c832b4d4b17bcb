"""Add ``UNIQUE(provider, provider_account_id)`` to ``accounts``, which Sequelize never declared.

Without it two concurrent first sign-ins with the same OAuth account can link it
twice, and ``getUserByAccount`` then picks either user. An existing unique index
on those two columns (whatever its name or column order) is kept.

``check`` looks for rows that already share a ``(provider, provider_account_id)``:
the key cannot be added over them, and which one to keep is the operator's call.
The report lists the provider and the ids of the rows and their users, never
the provider account id nor a token. Comparison is exact (on MySQL as
``utf8mb4_bin``, the collation migration 0001 gives the table).
"""

from __future__ import annotations

from typing import Any

from peewee import Database

from peewee_authjs.errors import MigrationError
from peewee_authjs.migrate import drop_index_if_exists
from peewee_authjs.migrate import ensure_index
from peewee_authjs.migrate import exact_text
from peewee_authjs.migrate import fetch
from peewee_authjs.migrate import find_index
from peewee_authjs.migrate import quote

TABLE = "accounts"
KEY = ("provider", "provider_account_id")
NAME = "accounts_provider_provider_account_id"
SHOWN = 20


def _duplicate_groups(db: Database) -> list[list[tuple[str, str, str | None]]]:
    """Rows sharing a key, grouped: ``[(provider, account id, user id), ...]`` per key."""
    provider, key = exact_text(db, "provider"), exact_text(db, "provider_account_id")
    outer_provider, outer_key = exact_text(db, "provider", "a"), exact_text(db, "provider_account_id", "a")
    found = fetch(
        db,
        f"SELECT a.{quote(db, 'id')}, a.{quote(db, 'user_id')}, {outer_provider}, {outer_key} "
        f"FROM {quote(db, TABLE)} a JOIN ("
        f"SELECT {provider} AS p, {key} AS k FROM {quote(db, TABLE)} "
        f"GROUP BY {provider}, {key} HAVING COUNT(*) > 1"
        f") d ON {outer_provider} = d.p AND {outer_key} = d.k "
        "ORDER BY 3, 4, 1",
    )
    groups: dict[tuple[str, str], list[tuple[str, str, str | None]]] = {}
    for account_id, user_id, provider_name, account_key in found:
        member = (str(provider_name), str(account_id), None if user_id is None else str(user_id))
        groups.setdefault((str(provider_name), str(account_key)), []).append(member)
    return list(groups.values())


def check(db: Database) -> list[str]:
    """No two rows may share ``(provider, provider_account_id)`` before the key is added."""
    if not db.table_exists(TABLE) or find_index(db, TABLE, KEY, unique=True):
        return []
    groups = _duplicate_groups(db)
    if not groups:
        return []
    lines = []
    for group in groups[:SHOWN]:
        rows = ", ".join(f"{account_id} (user {user_id})" for _, account_id, user_id in group)
        lines.append(f"  provider {group[0][0]!r}: accounts {rows}")
    if len(groups) > SHOWN:
        lines.append(f"  ... and {len(groups) - SHOWN} more groups")
    return [
        f"accounts: {len(groups)} (provider, provider_account_id) pair(s) are held by more than one row, "
        "so UNIQUE(provider, provider_account_id) cannot be added. In each group below keep one row "
        "(the one whose user signs in), delete the others, then run migrate again:\n" + "\n".join(lines)
    ]


def up(migrator: Any, db: Database) -> None:
    """Add the unique key after checking that no rows clash."""
    problems = check(db)
    if problems:
        raise MigrationError("; ".join(problems))
    ensure_index(migrator, TABLE, KEY, unique=True)


def down(migrator: Any, db: Database) -> None:
    """Drop the key by its peewee-authjs name (a key of another name was not ours)."""
    drop_index_if_exists(migrator, TABLE, NAME)
