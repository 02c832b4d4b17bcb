"""Create the Auth.js tables that do not exist yet (users first), with every key and index.

On an empty database this makes the whole schema, exactly as
``PeeweeAdapter(db).create_tables()`` does. Tables that exist already (made by
``sequelize.sync()``) are not touched here: the next migrations bring them up to
date. (It runs after 0001 because on MySQL the new ``authenticators`` table can
only reference a ``users.id`` of the same character set.) ``check`` refuses tables that lack one of the Auth.js columns (e.g. the
camelCase columns of custom Sequelize models).

The models below are a frozen copy of peewee-authjs 0.1's; a later change to
:mod:`peewee_authjs.models` comes with a migration of its own.
"""

from __future__ import annotations

from typing import Any

from peewee import SQL
from peewee import BigIntegerField
from peewee import BooleanField
from peewee import CharField
from peewee import Database
from peewee import IntegerField
from peewee import Model
from peewee import TextField

from peewee_authjs.fields import UserForeignKeyField
from peewee_authjs.fields import UTCDateTimeField
from peewee_authjs.fields import UUIDTextField
from peewee_authjs.fields import dialect_of
from peewee_authjs.migrate import logger

MYSQL_TABLE_SETTINGS = ["ENGINE=InnoDB", "DEFAULT CHARSET=utf8mb4", "COLLATE=utf8mb4_bin"]


def _models(db: Database) -> list[type[Model]]:
    """The five tables, bound to ``db``, in creation order."""

    class User(Model):
        id = UUIDTextField(primary_key=True)
        name = CharField(null=True)
        email = CharField(null=True)
        email_verified = UTCDateTimeField(null=True)
        image = CharField(null=True)

        class Meta:
            database = db
            legacy_table_names = False
            table_name = "users"
            constraints = [SQL("UNIQUE (email)")]

    def user_key(null: bool) -> Any:
        options: dict[str, Any] = {"column_name": "user_id", "null": null, "backref": "+", "index": True}
        return UserForeignKeyField(User, on_delete="CASCADE", on_update="CASCADE", **options)

    class Account(Model):
        id = UUIDTextField(primary_key=True)
        type = CharField()
        provider = CharField()
        provider_account_id = CharField()
        refresh_token = TextField(null=True)
        access_token = TextField(null=True)
        expires_at = IntegerField(null=True)
        token_type = CharField(null=True)
        scope = CharField(null=True)
        id_token = TextField(null=True)
        session_state = CharField(null=True)
        user = user_key(null=True)

        class Meta:
            database = db
            legacy_table_names = False
            table_name = "accounts"
            indexes = ((("provider", "provider_account_id"), True),)

    class Session(Model):
        id = UUIDTextField(primary_key=True)
        expires = UTCDateTimeField(index=True)
        session_token = CharField()
        user = user_key(null=True)

        class Meta:
            database = db
            legacy_table_names = False
            table_name = "sessions"
            constraints = [SQL("UNIQUE (session_token)")]

    class VerificationToken(Model):
        token = CharField(primary_key=True)
        identifier = CharField(index=True)
        expires = UTCDateTimeField(index=True)

        class Meta:
            database = db
            legacy_table_names = False
            table_name = "verification_tokens"

    class Authenticator(Model):
        credential_id = CharField(primary_key=True)
        provider_account_id = CharField()
        credential_public_key = TextField()
        counter = BigIntegerField()
        credential_device_type = CharField()
        credential_backed_up = BooleanField()
        transports = CharField(null=True)
        user = user_key(null=False)

        class Meta:
            database = db
            legacy_table_names = False
            table_name = "authenticators"

    models: list[type[Model]] = [User, Account, Session, VerificationToken, Authenticator]
    if dialect_of(db) == "mysql":
        for model in models:
            model._meta.table_settings = list(MYSQL_TABLE_SETTINGS)
    return models


def check(db: Database) -> list[str]:
    """Existing tables must have every Auth.js column (extra columns are fine)."""
    problems = []
    for model in _models(db):
        table = model._meta.table_name
        if not db.table_exists(table):
            continue
        present = {column.name for column in db.get_columns(table)}
        missing = [f.column_name for f in model._meta.sorted_fields if f.column_name not in present]
        if missing:
            problems.append(
                f"table {table} exists but lacks the column(s) {', '.join(missing)}; "
                "only tables made by @auth/sequelize-adapter's default models (or by peewee-authjs) "
                "can be adopted"
            )
    return problems


def up(migrator: Any, db: Database) -> None:
    """Create the missing tables, with their indexes, in dependency order."""
    missing = [model for model in _models(db) if not db.table_exists(model._meta.table_name)]
    db.create_tables(missing, safe=True)
    for model in missing:
        logger.info("created table %s", model._meta.table_name)


def down(migrator: Any, db: Database) -> None:
    """Drop the five tables, children first. Their rows are lost."""
    db.drop_tables(_models(db), safe=True)
