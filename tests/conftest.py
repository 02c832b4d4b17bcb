"""Fixtures: the contract suite runs once per configured backend (see ``tests/backends.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from peewee import Database

from peewee_authjs import PeeweeAdapter
from peewee_authjs.sessions import SessionManager
from tests.backends import backend_names
from tests.backends import open_clean
from tests.clock import Clock


@pytest.fixture(params=backend_names())
def backend(request: pytest.FixtureRequest) -> str:
    """The name of the backend under test: sqlite, postgres or mysql."""
    return str(request.param)


@pytest.fixture
def database(backend: str, tmp_path: Path) -> Iterator[Database]:
    """An open database of the backend under test, without Auth.js tables."""
    yield from open_clean(backend, tmp_path)


@pytest.fixture
def adapter(database: Database) -> PeeweeAdapter:
    """An adapter on ``database`` with its tables created."""
    result = PeeweeAdapter(database)
    result.create_tables()
    return result


@pytest.fixture
def clock() -> Clock:
    """A clock the test moves by hand (starts at ``tests.clock.START``)."""
    return Clock()


@pytest.fixture
def sessions(adapter: PeeweeAdapter, clock: Clock) -> SessionManager:
    """Auth.js's session rules over ``adapter``, on the test's clock."""
    return SessionManager(adapter, clock=clock)
