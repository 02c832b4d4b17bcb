"""Fixtures of the interop suite: the real JS adapter and the Python one on one database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from peewee import Database

from peewee_authjs import PeeweeAdapter
from tests.backends import backend_url
from tests.interop.node import JsAdapter
from tests.interop.node import NodeServer
from tests.interop.node import require_node
from tests.interop.schemas import SCHEMAS
from tests.interop.schemas import Shared
from tests.interop.schemas import make_schema


@pytest.fixture(scope="session")
def node_servers() -> Iterator[dict[str, NodeServer]]:
    """One node process per backend for the whole session, started when first needed.

    Not one for all: Sequelize rewrites the adapter's shared attribute definitions for
    the dialect of the first connection, so one process cannot serve two dialects.
    """
    servers: dict[str, NodeServer] = {}
    try:
        yield servers
    finally:
        for server in servers.values():
            server.close()


@pytest.fixture
def js(backend: str, tmp_path: Path, database: Database, node_servers: dict[str, NodeServer]) -> JsAdapter:
    """The JS adapter on the (clean) database of the backend under test (skips or, under CI=true,
    fails without Node)."""
    require_node()
    if backend not in node_servers or not node_servers[backend].alive:
        if backend in node_servers:
            node_servers[backend].close()
        node_servers[backend] = NodeServer()
    return JsAdapter(backend_url(backend, tmp_path), node_servers[backend])


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
