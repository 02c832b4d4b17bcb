"""Opening a database from a URL, with production settings for SQLite.

URLs go through :func:`playhouse.db_url.connect` (``sqlite:///auth.db``,
``postgresql://user@host/db``, ``mysql://user@host/db``). A SQLite database
opened here gets :data:`SQLITE_PRAGMAS` on every connection.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from peewee import Database
from playhouse import db_url

#: The pragmas of a SQLite database opened from a URL, and why:
#:
#: - ``journal_mode=wal``: readers never block the writer nor each other, so
#:   session reads go on while a sign-in writes; one fsync per commit at most.
#: - ``synchronous=normal``: safe with WAL (no corruption, and a killed process
#:   loses nothing that committed); only a power cut may drop the last commits.
#: - ``foreign_keys=1``: the ``ON DELETE CASCADE`` keys Sequelize declares only
#:   work with it (Sequelize turns it on too), and no orphan row can be inserted.
#: - ``busy_timeout=5000``: a writer waits up to 5 s for another one instead of
#:   failing at once with "database is locked".
#: - ``cache_size=-16000``: 16 MB of page cache per connection, enough for the
#:   indexes of about a million sessions.
#: - ``temp_store=memory``: sorts and temporary indexes never touch the disk.
SQLITE_PRAGMAS: dict[str, Any] = {
    "journal_mode": "wal",
    "synchronous": "normal",
    "foreign_keys": 1,
    "busy_timeout": 5000,
    "cache_size": -16000,
    "temp_store": "memory",
}


def open_database(url: str, **connect_params: Any) -> Database:
    """Open ``url`` with :func:`playhouse.db_url.connect`; SQLite gets :data:`SQLITE_PRAGMAS`.

    Keyword arguments go to the database class and win over the URL's and ours.
    """
    scheme = urlparse(url).scheme.lower()
    params: dict[str, Any] = {}
    if scheme.startswith("sqlite") or scheme.startswith("cysqlite") or scheme == "apsw":
        pragmas = dict(SQLITE_PRAGMAS)
        pragmas.update(connect_params.pop("pragmas", None) or {})
        params["pragmas"] = pragmas
    params.update(connect_params)
    database: Database = db_url.connect(url, **params)
    return database


__all__ = ["SQLITE_PRAGMAS", "open_database"]
