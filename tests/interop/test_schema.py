"""Each side runs on the other's tables without changing them."""

from __future__ import annotations

from typing import Any

from peewee import Database

from peewee_authjs import PeeweeAdapter
from tests.interop.node import JsAdapter
from tests.interop.node import op
from tests.interop.node import to_js
from tests.interop.records import account_record
from tests.interop.records import later
from tests.interop.records import session_record
from tests.interop.records import token_record
from tests.interop.records import user_record
from tests.interop.schemas import Shared
from tests.interop.schemas import make_schema

SEQUELIZE_TABLES = ["accounts", "sessions", "users", "verification_tokens"]


def describe(database: Database) -> dict[str, Any]:
    """The tables with their columns, indexes and foreign keys, as the database reports them."""
    result: dict[str, Any] = {}
    for table in sorted(database.get_tables()):
        result[table] = {
            "columns": sorted(
                (c.name, c.data_type.lower(), c.null, c.primary_key) for c in database.get_columns(table)
            ),
            "indexes": sorted((i.name, tuple(i.columns), i.unique) for i in database.get_indexes(table)),
            "foreign_keys": sorted(
                (f.column, f.dest_table, f.dest_column) for f in database.get_foreign_keys(table)
            ),
        }
    return result


def python_workload(py: PeeweeAdapter) -> None:
    """Every contract method but the WebAuthn ones, as a Flask app sharing the database runs them."""
    user = py.create_user(user_record())
    account = py.link_account(account_record(user["id"]))
    session = py.create_session(session_record(user["id"]))
    token = py.create_verification_token(token_record(user["email"]))
    found = py.get_user_by_account(account["provider"], account["provider_account_id"])
    assert found is not None and found["id"] == user["id"]
    assert py.get_session_and_user(session["session_token"]) is not None
    py.update_session({"session_token": session["session_token"], "expires": later(30)})
    py.update_user({"id": user["id"], "email_verified": later(0)})
    assert py.use_verification_token(token["identifier"], token["token"]) is not None
    assert py.delete_session(session["session_token"]) is not None
    assert py.unlink_account(account["provider"], account["provider_account_id"]) is not None
    assert py.delete_user(user["id"]) is not None


def test_python_uses_a_sequelize_made_schema_unchanged(sequelize_made: Shared, database: Database) -> None:
    """On the four tables sequelize.sync() makes, every Python operation works and no table, column,
    index or key is added or changed (no authenticators table appears)."""
    before = describe(database)
    assert sorted(before) == SEQUELIZE_TABLES
    python_workload(sequelize_made.py)
    assert describe(database) == before


def test_adapter_sync_leaves_our_schema_unchanged(database: Database, js: JsAdapter) -> None:
    """A Next.js app left with the adapter's own sync on (`synchronize` not false, NODE_ENV not
    production) runs each model's sync() on tables Python made: nothing changes and the adapter works."""
    make_schema("peewee", database, js)
    before = describe(database)
    user = user_record()
    js.batch(
        op("sync", "models"),
        op("createUser", to_js(user)),
        op("createSession", to_js(session_record(user["id"]))),
    )
    assert describe(database) == before
    assert PeeweeAdapter(database).get_user(user["id"]) is not None
