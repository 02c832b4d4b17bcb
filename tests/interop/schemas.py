"""The ways the shared tables get made, for the interop suite.

- ``sequelize``: ``sequelize.sync()`` run by the JS side, as a Next.js app makes them;
  the Python side uses them as they are.
- ``migrated``: an empty database migrated by ``peewee_authjs.migrate.migrate``
  (``peewee-authjs migrate``); the JS adapter runs on it with ``synchronize: false``.
- ``adopted``: made by ``sequelize.sync()``, then migrated: the migrations adopt it.
- ``peewee``: made by ``PeeweeAdapter.create_tables()``; used instead of the two
  migrated ones while the library has no ``peewee_authjs.migrate``.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass

from peewee import Database

from peewee_authjs import PeeweeAdapter
from tests.interop.node import JsAdapter

#: Whether the library ships migrations (``peewee-authjs migrate``).
HAS_MIGRATIONS = importlib.util.find_spec("peewee_authjs.migrate") is not None

SCHEMAS = ("sequelize", "migrated", "adopted") if HAS_MIGRATIONS else ("sequelize", "peewee")

#: The schemas whose datetime columns Sequelize made: ``DATETIME`` without a fraction on MySQL.
SEQUELIZE_DATETIMES = ("sequelize", "adopted")


@dataclass
class Shared:
    """Both adapters on one database of ``backend`` whose tables were made by ``schema``."""

    py: PeeweeAdapter
    js: JsAdapter
    backend: str
    schema: str


def migrate(database: Database) -> list[str]:
    """Apply the library's migrations to ``database``; the names of those applied."""
    module = importlib.import_module("peewee_authjs.migrate")
    applied: list[str] = module.migrate(database)
    return applied


def make_schema(schema: str, database: Database, js: JsAdapter) -> None:
    """Create the Auth.js tables in the empty ``database`` the way ``schema`` names."""
    if schema in ("sequelize", "adopted"):
        js.call("sync")
    if schema in ("migrated", "adopted"):
        assert migrate(database), "no migration was applied"
    elif schema == "peewee":
        PeeweeAdapter(database).create_tables()
    elif schema != "sequelize":
        raise ValueError(f"unknown schema {schema!r}")
