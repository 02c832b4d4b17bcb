"""PeeweeAdapter on tables it did not make: a database made by ``sequelize.sync()`` has no
``authenticators`` table (the real Sequelize schema is covered by ``tests/interop``)."""

from __future__ import annotations

import uuid
from datetime import datetime
from datetime import timedelta
from datetime import timezone

from peewee import Database

from peewee_authjs import PeeweeAdapter
from tests.backends import quote
from tests.helpers import count

UTC = timezone.utc


def _user_with_children(adapter: PeeweeAdapter) -> str:
    user = adapter.create_user({"email": f"{uuid.uuid4().hex[:8]}@example.com"})
    expires = datetime.now(UTC) + timedelta(days=1)
    adapter.create_session({"session_token": str(uuid.uuid4()), "user_id": user["id"], "expires": expires})
    adapter.link_account(
        {
            "user_id": user["id"],
            "type": "oauth",
            "provider": "github",
            "provider_account_id": uuid.uuid4().hex,
        }
    )
    return user["id"]


def test_delete_user_without_authenticators_table(backend: str, database: Database) -> None:
    """delete_user works on a database without the authenticators table (as Sequelize makes it),
    deleting the user's sessions and accounts; once create_tables adds the table, the same adapter
    deletes the user's authenticators too."""
    PeeweeAdapter(database).create_tables()
    database.execute_sql(f"DROP TABLE {quote(database, 'authenticators')}")
    adapter = PeeweeAdapter(database)
    user_id = _user_with_children(adapter)
    assert adapter.delete_user(user_id) is not None
    assert count(database, "users") == count(database, "sessions") == count(database, "accounts") == 0

    adapter.create_tables()
    user_id = _user_with_children(adapter)
    adapter.create_authenticator(
        {
            "credential_id": "cred-1",
            "user_id": user_id,
            "provider_account_id": "cred-1",
            "credential_public_key": "pk",
            "counter": 0,
            "credential_device_type": "singleDevice",
            "credential_backed_up": False,
        }
    )
    if backend == "sqlite":  # no cascade from the database: the adapter must delete the authenticator
        database.pragma("foreign_keys", 0)
    assert adapter.delete_user(user_id) is not None
    assert count(database, "authenticators") == count(database, "sessions") == 0
