"""The ways the shared tables get made, for the interop suite.

- ``sequelize``: ``sequelize.sync()`` run by the JS side, as a Next.js app makes them;
  the Python side uses them as they are.
- ``peewee``: made by the Python side (``PeeweeAdapter.create_tables()``); the JS
  adapter runs on them with ``synchronize: false``.
"""

from __future__ import annotations

from dataclasses import dataclass

from peewee import Database

from peewee_authjs import PeeweeAdapter
from tests.interop.node import JsAdapter

SCHEMAS = ("sequelize", "peewee")


@dataclass
class Shared:
    """Both adapters on one database of ``backend`` whose tables were made by ``schema``."""

    py: PeeweeAdapter
    js: JsAdapter
    backend: str
    schema: str


def make_schema(schema: str, database: Database, js: JsAdapter) -> None:
    """Create the Auth.js tables in the empty ``database`` the way ``schema`` names."""
    if schema == "sequelize":
        js.call("sync")
    elif schema == "peewee":
        PeeweeAdapter(database).create_tables()
    else:
        raise ValueError(f"unknown schema {schema!r}")
