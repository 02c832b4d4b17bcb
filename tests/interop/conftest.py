"""Fixtures of the interop suite: the real JS adapter and the Python one on one database."""

from __future__ import annotations

from pathlib import Path

import pytest
from peewee import Database

from peewee_authjs import PeeweeAdapter
from tests.backends import backend_url
from tests.interop.node import JsAdapter
from tests.interop.node import require_node
from tests.interop.schemas import SCHEMAS
from tests.interop.schemas import Shared
from tests.interop.schemas import make_schema


@pytest.fixture
def js(backend: str, tmp_path: Path, database: Database) -> JsAdapter:
    """The JS adapter on the (clean) database of the backend under test; skips or fails without Node."""
    require_node()
    return JsAdapter(backend_url(backend, tmp_path))


@pytest.fixture(params=SCHEMAS)
def shared(request: pytest.FixtureRequest, backend: str, database: Database, js: JsAdapter) -> Shared:
    """Both adapters on one database, its tables made by each way of making them in turn."""
    schema = str(request.param)
    make_schema(schema, database, js)
    return Shared(PeeweeAdapter(database), js, backend, schema)


@pytest.fixture
def sequelize_made(backend: str, database: Database, js: JsAdapter) -> Shared:
    """Both adapters on one database whose tables ``sequelize.sync()`` made (as a Next.js app has them)."""
    make_schema("sequelize", database, js)
    return Shared(PeeweeAdapter(database), js, backend, "sequelize")
