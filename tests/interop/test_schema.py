"""Each side runs on the other's tables without changing them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from peewee import Database

from peewee_authjs import PeeweeAdapter
from tests.backends import backend_url
from tests.interop.node import JsAdapter
from tests.interop.node import op
from tests.interop.node import to_js
from tests.interop.node import to_py
from tests.interop.records import account_record
from tests.interop.records import later
from tests.interop.records import session_record
from tests.interop.records import token_record
from tests.interop.records import user_record
from tests.interop.schemas import Shared
from tests.interop.schemas import make_schema
from tests.introspect import describe

SEQUELIZE_TABLES = ["accounts", "sessions", "users", "verification_tokens"]


def describe_all(database: Database) -> dict[str, Any]:
    """Every table of the database, described by :func:`tests.introspect.describe`."""
    return {table: describe(database, table) for table in sorted(database.get_tables())}


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
    before = describe_all(database)
    assert sorted(before) == SEQUELIZE_TABLES
    python_workload(sequelize_made.py)
    assert describe_all(database) == before


def test_adapter_sync_leaves_our_schema_unchanged(database: Database, js: JsAdapter) -> None:
    """A Next.js app left with the adapter's own sync on (`synchronize` not false, NODE_ENV not
    production) runs each model's sync() on tables Python made: nothing changes and the adapter works."""
    make_schema("peewee", database, js)
    before = describe_all(database)
    user = user_record()
    js.batch(
        op("sync", "models"),
        op("createUser", to_js(user)),
        op("createSession", to_js(session_record(user["id"]))),
    )
    assert describe_all(database) == before
    assert PeeweeAdapter(database).get_user(user["id"]) is not None


def test_migrate_command_adopts_a_sequelize_database_and_node_keeps_working(
    sequelize_made: Shared, database: Database, tmp_path: Path
) -> None:
    """`peewee-authjs migrate` on a database that sequelize.sync() made and the JS adapter filled keeps
    every row as the JS adapter reads it; afterwards the JS adapter (synchronize: false) still does all
    its work there, Python reads what it wrote, and the authenticators table is there for Python."""
    js, py = sequelize_made.js, sequelize_made.py
    user = user_record()
    account, session, token = account_record(user["id"]), session_record(user["id"]), token_record()
    writes = [
        op("createUser", to_js(user)),
        op("linkAccount", to_js(account)),
        op("createSession", to_js(session)),
        op("createVerificationToken", to_js(token)),
    ]
    reads = [
        op("getUser", user["id"]),
        op("findAll", "account", {"userId": user["id"]}),
        op("getSessionAndUser", session["session_token"]),
        op("findAll", "verificationToken", {"identifier": token["identifier"]}),
    ]
    before = js.batch(*writes, *reads)[len(writes) :]

    command = [
        sys.executable,
        "-m",
        "peewee_authjs",
        "migrate",
        backend_url(sequelize_made.backend, tmp_path),
    ]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "applied" in completed.stdout
    assert {"authenticators", "authjs_migrations"} <= set(database.get_tables())

    second = user_record()
    second_session = session_record(second["id"])
    after = js.batch(
        *reads,
        op("createUser", to_js(second)),
        op("linkAccount", to_js(account_record(second["id"]))),
        op("createSession", to_js(second_session)),
        op("updateSession", {"sessionToken": second_session["session_token"], "expires": later(30)}),
        op("useVerificationToken", {"identifier": token["identifier"], "token": token["token"]}),
        op("deleteUser", user["id"]),
    )
    assert after[: len(reads)] == before
    assert to_py(after[len(reads) + 5]) == to_py(before[0])
    assert py.get_user(user["id"]) is None
    found = py.get_session_and_user(second_session["session_token"])
    assert found is not None and found["user"]["id"] == second["id"]
    authenticator = py.create_authenticator(
        {
            "credential_id": "Y3JlZGVudGlhbA",
            "user_id": second["id"],
            "provider_account_id": "Y3JlZGVudGlhbA",
            "credential_public_key": "cHVibGlj",
            "counter": 0,
            "credential_device_type": "singleDevice",
            "credential_backed_up": False,
        }
    )
    assert py.list_authenticators_by_user_id(second["id"]) == [authenticator]
