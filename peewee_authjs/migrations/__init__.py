"""The schema of peewee-authjs as numbered ``playhouse.migrations`` scripts.

Each ``NNNN_name.py`` file here defines ``up(migrator, db)`` and ``down(migrator, db)``
and may define ``check(db) -> list[str]``: the problems that would make ``up`` fail,
which :func:`peewee_authjs.migrate.migrate` collects from every pending script before
it changes anything. Scripts hold frozen copies of the models they create; they never
import :mod:`peewee_authjs.models`, whose later versions need migrations of their own.

Run them with ``peewee-authjs migrate [URL]`` or :func:`peewee_authjs.migrate.migrate`.
"""

from __future__ import annotations

from pathlib import Path

#: The folder holding the migration scripts (what ``playhouse.migrations.Runner`` reads).
DIRECTORY = Path(__file__).resolve().parent

__all__ = ["DIRECTORY"]
