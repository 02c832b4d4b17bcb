"""The schema: Sequelize's tables and encodings, custom models, binding and transactions."""

from __future__ import annotations

import uuid
from datetime import datetime
from datetime import timedelta
from datetime import timezone
from pathlib import Path
from typing import Any

import pytest
from peewee import CharField
from peewee import Database
from peewee import DatabaseProxy
from peewee import IntegerField
from peewee import SqliteDatabase
from peewee import TimeField
from peewee import UUIDField

from peewee_authjs import BackendError
from peewee_authjs import PeeweeAdapter
from peewee_authjs import models
from peewee_authjs.database import SQLITE_PRAGMAS
from peewee_authjs.database import open_database
from tests.helpers import count
from tests.helpers import read_row
from tests.helpers import rows

UTC = timezone.utc
LATER = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=123000)


#: Run a test on SQLite only (the ``backend`` fixture, narrowed).
SQLITE_ONLY = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


class PhoneUser(models.User):
    """The seed's custom model, in Python: the default user plus a phone number."""

    phone_number = CharField(null=True)
    logins = IntegerField(default=0)


def test_default_table_and_column_names(adapter: PeeweeAdapter, database: Database) -> None:
    """The tables and columns are Sequelize's, in its order (plus authenticators)."""
    expected = {
        "users": ["id", "name", "email", "email_verified", "image"],
        "accounts": [
            "id", "type", "provider", "provider_account_id", "refresh_token", "access_token",
            "expires_at", "token_type", "scope", "id_token", "session_state", "user_id",
        ],
        "sessions": ["id", "expires", "session_token", "user_id"],
        "verification_tokens": ["token", "identifier", "expires"],
    }  # fmt: skip
    for table, columns in expected.items():
        assert [c.name for c in database.get_columns(table)] == columns
    assert "authenticators" in database.get_tables()


def test_column_types_per_backend(adapter: PeeweeAdapter, database: Database, backend: str) -> None:
    """uuids and datetimes use Sequelize's column types on each backend; tokens are TEXT."""
    types = {c.name: c.data_type.lower() for c in database.get_columns("sessions")}
    account_types = {c.name: c.data_type.lower() for c in database.get_columns("accounts")}
    if backend == "sqlite":
        assert types["id"] == "uuid" and types["expires"] == "datetime"
    elif backend == "postgres":
        assert types["id"] == "uuid" and types["expires"] == "timestamp with time zone"
    else:
        assert types["id"] == "char" and types["expires"] == "datetime"
    assert account_types["access_token"] == "text" and account_types["refresh_token"] == "text"


def test_indexes_and_unique_keys(adapter: PeeweeAdapter, database: Database) -> None:
    """The unique keys and indexes Sequelize forgot are there."""

    def index_columns(table: str) -> set[tuple[tuple[str, ...], bool]]:
        return {(tuple(i.columns), i.unique) for i in database.get_indexes(table)}

    assert (("provider", "provider_account_id"), True) in index_columns("accounts")
    assert (("user_id",), False) in index_columns("accounts")
    assert {(("user_id",), False), (("expires",), False), (("session_token",), True)} <= index_columns(
        "sessions"
    )
    assert {(("identifier",), False), (("expires",), False)} <= index_columns("verification_tokens")
    assert (("email",), True) in index_columns("users")


@SQLITE_ONLY
def test_sqlite_dates_are_stored_in_sequelize_format(
    adapter: PeeweeAdapter, database: Database, backend: str
) -> None:
    """On SQLite a datetime is stored exactly as Sequelize writes it: milliseconds, space, +00:00."""
    user = adapter.create_user(
        {"email": "a@b.co", "email_verified": LATER.astimezone(timezone(timedelta(hours=5)))}
    )
    raw = rows(database, "SELECT email_verified FROM users WHERE id = ?", user["id"])[0]["email_verified"]
    assert raw == LATER.strftime("%Y-%m-%d %H:%M:%S.123 +00:00")
    assert user["email_verified"] == LATER and user["email_verified"].tzinfo == UTC


@SQLITE_ONLY
def test_sqlite_reads_every_form_sequelize_or_peewee_may_have_written(
    adapter: PeeweeAdapter, database: Database, backend: str
) -> None:
    """Rows written by others (§3.8 forms, including Z and negative offsets) read as the same instant."""
    user = adapter.create_user({"email": "a@b.co"})
    instant = datetime(2030, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    forms = [
        "2030-01-02 03:04:05.678 +00:00",
        "2030-01-02 03:04:05.678000",
        "2030-01-02 03:04:05.678000+00:00",
        "2030-01-02T03:04:05.678+00:00",
        "2030-01-02 04:04:05.678 +01:00",
        "2030-01-02T03:04:05.678Z",
        "2030-01-01 22:04:05.678-05:00",
    ]
    for number, text in enumerate(forms):
        database.execute_sql(
            "INSERT INTO sessions (id, expires, session_token, user_id) VALUES (?, ?, ?, ?)",
            (str(uuid.uuid4()), text, f"t{number}", user["id"]),
        )
        found = adapter.get_session_and_user(f"t{number}")
        assert found is not None and found["session"]["expires"] == instant, text
    second = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    database.execute_sql(
        "UPDATE sessions SET expires = ? WHERE session_token = 't0'", ("2030-01-02 03:04:05",)
    )
    found = adapter.get_session_and_user("t0")
    assert found is not None and found["session"]["expires"] == second


def test_custom_user_model_round_trips(database: Database) -> None:
    """A subclassed User with extra fields keeps its table; the fields round-trip and every join works."""
    adapter = PeeweeAdapter(database, models={"User": PhoneUser})
    adapter.create_tables()
    assert adapter.models.User._meta.table_name == "users"
    assert issubclass(adapter.models.User, PhoneUser)
    assert adapter.models.Session.user.rel_model is adapter.models.User
    assert "phone_number" in [c.name for c in database.get_columns("users")]

    user = adapter.create_user({"email": "a@b.co", "phone_number": "+33 1 23 45 67 89"})
    assert user["phone_number"] == "+33 1 23 45 67 89" and user["logins"] == 0
    assert read_row(database, "users", id=user["id"])["phone_number"] == "+33 1 23 45 67 89"  # type: ignore[index]
    assert adapter.get_user(user["id"]) == user
    updated = adapter.update_user({"id": user["id"], "phone_number": "112", "logins": 3})
    assert updated == {**user, "phone_number": "112", "logins": 3}

    adapter.link_account(
        {"user_id": user["id"], "type": "oauth", "provider": "p", "provider_account_id": "1"}
    )
    assert adapter.get_user_by_account("p", "1") == updated
    adapter.create_session({"session_token": "tok", "user_id": user["id"], "expires": LATER})
    found = adapter.get_session_and_user("tok")
    assert found is not None and found["user"] == updated
    assert adapter.delete_user(user["id"]) == updated
    assert count(database, "accounts") == 0 and count(database, "sessions") == 0


def test_custom_model_fields_are_validated(database: Database) -> None:
    """Extra fields are checked like the default ones (type, length)."""
    from peewee_authjs import InvalidInputError

    adapter = PeeweeAdapter(database, models={"User": PhoneUser})
    adapter.create_tables()
    with pytest.raises(InvalidInputError, match="user.logins"):
        adapter.create_user({"logins": "three"})
    with pytest.raises(InvalidInputError, match="did you mean 'phone_number'"):
        adapter.create_user({"phoneNumber": "1"})


class ExternalUser(models.User):
    """A custom user whose extra columns are Peewee fields that convert their values (db_value)."""

    external_id = UUIDField(null=True)
    wakes_at = TimeField(null=True)


def test_custom_peewee_fields_are_converted_on_every_backend(database: Database) -> None:
    """Extra Peewee fields go through their own db_value: a uuid.UUID and a time are stored on every backend.

    SQLite's driver cannot bind a ``uuid.UUID`` or a ``time`` itself; Peewee's fields turn them into
    what it stores, and the adapter must let them, on writes as on updates.
    """
    from datetime import time

    adapter = PeeweeAdapter(database, models={"User": ExternalUser})
    adapter.create_tables()
    external = uuid.UUID("12345678-1234-4234-8234-123456789abc")
    user = adapter.create_user({"email": "e@x.io", "external_id": external, "wakes_at": time(6, 30)})
    stored = adapter.get_user(user["id"])
    assert stored is not None
    assert stored["external_id"] == external and stored["wakes_at"] == time(6, 30)
    other = uuid.UUID("87654321-4321-4321-8321-cba987654321")
    updated = adapter.update_user({"id": user["id"], "external_id": other, "wakes_at": time(7, 15)})
    assert updated is not None and updated["external_id"] == other and updated["wakes_at"] == time(7, 15)
    assert adapter.get_user(user["id"]) == updated


class LongTokenSession(models.Session):
    """A custom session whose token column is wider than Sequelize's VARCHAR(255)."""

    session_token = CharField(max_length=512)


def test_custom_wider_token_column_is_found_by_every_lookup(database: Database) -> None:
    """A token the custom column stored (longer than 255) is found, updated and deleted by that token."""
    adapter = PeeweeAdapter(database, models={"Session": LongTokenSession})
    adapter.create_tables()
    user = adapter.create_user({"email": "long@x.io"})
    token = "t" * 400
    session = adapter.create_session({"session_token": token, "user_id": user["id"], "expires": LATER})
    found = adapter.get_session_and_user(token)
    assert found is not None and found["session"] == session
    later = LATER + timedelta(days=1)
    assert adapter.update_session({"session_token": token, "expires": later}) == {**session, "expires": later}
    assert adapter.delete_session(token) == {**session, "expires": later}
    assert count(database, "sessions") == 0
    assert adapter.get_session_and_user("t" * 600) is None


class IndexedAccount(models.Account):
    """A custom account with a unique index of its own, declared with ``add_index``."""


IndexedAccount.add_index(IndexedAccount.scope, IndexedAccount.token_type, unique=True)


def test_custom_unique_index_violation_is_a_duplicate_error_naming_its_columns(database: Database) -> None:
    """A custom model's own unique index (a ModelIndex) is named in DuplicateError on every backend."""
    from peewee_authjs import DuplicateError

    adapter = PeeweeAdapter(database, models={"Account": IndexedAccount})
    adapter.create_tables()
    user = adapter.create_user({})
    account = {"user_id": user["id"], "type": "oauth", "provider": "p", "scope": "s", "token_type": "t"}
    adapter.link_account({**account, "provider_account_id": "1"})
    with pytest.raises(DuplicateError, match=r"scope, token_type") as info:
        adapter.link_account({**account, "provider_account_id": "2"})
    assert info.value.key == "scope, token_type"
    assert count(database, "accounts") == 1


def test_one_model_class_serves_two_databases(tmp_path: Path) -> None:
    """The classes passed in stay unbound, so two adapters on two databases do not interfere."""
    first = PeeweeAdapter(f"sqlite:///{tmp_path / 'one.db'}", models={"User": PhoneUser})
    second = PeeweeAdapter(f"sqlite:///{tmp_path / 'two.db'}", models={"User": PhoneUser})
    first.create_tables()
    second.create_tables()
    user = first.create_user({"email": "a@b.co"})
    assert second.get_user(user["id"]) is None
    assert PhoneUser._meta.database is None
    assert first.models.User is not second.models.User


def test_database_proxy_initialised_later(tmp_path: Path) -> None:
    """A DatabaseProxy (Flask app factories) works once initialised, and follows re-initialisation."""
    from peewee_authjs import AdapterError

    proxy = DatabaseProxy()
    adapter = PeeweeAdapter(proxy)
    with pytest.raises(AdapterError, match="not initialised"):
        adapter.get_user(str(uuid.uuid4()))
    proxy.initialize(open_database(f"sqlite:///{tmp_path / 'a.db'}"))
    adapter.create_tables()
    user = adapter.create_user({"email": "a@b.co"})
    assert adapter.get_user(user["id"]) == user
    proxy.initialize(open_database(f"sqlite:///{tmp_path / 'b.db'}"))
    adapter.create_tables()
    assert adapter.get_user(user["id"]) is None


def test_database_proxy_reinitialised_to_another_backend_creates_its_tables(
    database: Database, tmp_path: Path
) -> None:
    """A proxy moved from any backend to SQLite (and back) gets tables in each one's own DDL.

    MySQL's table settings (ENGINE=InnoDB...) must not stick to the models once the proxy is on SQLite.
    """
    proxy = DatabaseProxy()
    adapter = PeeweeAdapter(proxy)
    proxy.initialize(database)
    adapter.create_tables()
    adapter.create_user({"email": "first@x.io"})
    proxy.initialize(open_database(f"sqlite:///{tmp_path / 'other.db'}"))
    adapter.create_tables()
    user = adapter.create_user({"email": "second@x.io"})
    assert adapter.get_user(user["id"]) == user
    proxy.initialize(database)
    adapter.drop_tables()
    adapter.create_tables()
    assert adapter.get_user_by_email("first@x.io") is None


def test_url_opens_sqlite_with_the_pragmas(tmp_path: Path) -> None:
    """PeeweeAdapter(url) turns on WAL, foreign keys, the busy timeout and the rest on every connection."""
    adapter = PeeweeAdapter(f"sqlite:///{tmp_path / 'auth.db'}")
    db = adapter.database
    assert isinstance(db, SqliteDatabase)
    assert db.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.execute_sql("PRAGMA busy_timeout").fetchone()[0] == SQLITE_PRAGMAS["busy_timeout"]
    assert db.execute_sql("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL


def test_delete_user_cascades_without_the_foreign_keys_pragma(tmp_path: Path) -> None:
    """On a SQLite connection opened without foreign_keys, delete_user still removes every child row."""
    database = SqliteDatabase(str(tmp_path / "plain.db"))
    adapter = PeeweeAdapter(database)
    adapter.create_tables()
    assert database.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 0
    user = adapter.create_user({"email": "a@b.co"})
    adapter.link_account(
        {"user_id": user["id"], "type": "oauth", "provider": "p", "provider_account_id": "1"}
    )
    adapter.create_session({"session_token": "t", "user_id": user["id"], "expires": LATER})
    adapter.create_authenticator(
        {
            "credential_id": "c", "user_id": user["id"], "provider_account_id": "c",
            "credential_public_key": "k", "counter": 0, "credential_device_type": "platform",
            "credential_backed_up": False,
        }
    )  # fmt: skip
    adapter.delete_user(user["id"])
    for table in ("users", "accounts", "sessions", "authenticators"):
        assert count(database, table) == 0, table


def test_delete_user_is_one_transaction(adapter: PeeweeAdapter, database: Database, monkeypatch: Any) -> None:
    """A failure in the middle of delete_user rolls every statement back: nothing half-deleted."""
    from peewee import OperationalError

    user = adapter.create_user({"email": "a@b.co"})
    adapter.create_session({"session_token": "t", "user_id": user["id"], "expires": LATER})
    adapter.link_account(
        {"user_id": user["id"], "type": "oauth", "provider": "p", "provider_account_id": "1"}
    )
    compiled = adapter._c()

    class FailingStatement:
        def execute(self, *args: Any, **kwargs: Any) -> Any:
            raise OperationalError("injected failure")

    monkeypatch.setattr(compiled, "delete_user", FailingStatement())
    with pytest.raises(BackendError, match="delete_user"):
        adapter.delete_user(user["id"])
    monkeypatch.undo()
    assert count(database, "sessions") == 1 and count(database, "accounts") == 1
    assert adapter.get_user(user["id"]) == user


def test_create_tables_twice_is_harmless(adapter: PeeweeAdapter, database: Database) -> None:
    """create_tables() only creates what is missing."""
    user = adapter.create_user({"email": "a@b.co"})
    adapter.create_tables()
    assert adapter.get_user(user["id"]) == user


def test_repr_names_no_secret(adapter: PeeweeAdapter) -> None:
    """The adapter's repr names the database class only."""
    assert repr(adapter).startswith("<PeeweeAdapter on ")
