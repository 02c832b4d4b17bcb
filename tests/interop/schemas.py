"""The ways the shared tables get made, for the interop suite.

- ``sequelize``: ``sequelize.sync()`` run by the JS side, as a Next.js app makes them;
  the Python side uses them as they are.
- ``migrated``: an empty database migrated by ``peewee_authjs.migrate.migrate``
  (``peewee-authjs migrate``); the JS adapter runs on it with ``synchronize: false``.
- ``adopted``: made by ``sequelize.sync()``, then migrated: the migrations adopt it.
- ``peewee``: made by ``PeeweeAdapter.create_tables()`` (the development shortcut).

Every comparison runs on the first three (:data:`SCHEMAS`).
"""

from __future__ import annotations

from dataclasses import dataclass

from peewee import Database

from peewee_authjs import PeeweeAdapter
from peewee_authjs.migrate import migrate
from tests.interop.node import JsAdapter

SCHEMAS = ("sequelize", "migrated", "adopted")

#: The schemas whose datetime columns Sequelize made: ``DATETIME`` without a fraction on MySQL.
SEQUELIZE_DATETIMES = ("sequelize", "adopted")


@dataclass
class Shared:
    """Both adapters on one database of ``backend`` whose tables were made by ``schema``."""

    py: PeeweeAdapter
    js: JsAdapter
    backend: str
    schema: str


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
