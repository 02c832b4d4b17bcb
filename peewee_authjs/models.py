"""The Auth.js tables as Peewee models, unbound.

The columns, types and nullability are those ``@auth/sequelize-adapter``
creates, plus what it forgot: ``UNIQUE(provider, provider_account_id)``, indexes
on every foreign key and on the expiry columns, ``TEXT`` OAuth tokens, and the
``authenticators`` table for WebAuthn.

The models carry no database. :class:`peewee_authjs.PeeweeAdapter` binds a copy
of them (or of your subclasses) to its database, so one set of classes serves
any number of databases. To add a column, subclass a model; the table name is
kept::

    class User(peewee_authjs.models.User):
        phone_number = CharField(null=True)

    adapter = PeeweeAdapter(db, models={"User": User})
"""

from __future__ import annotations

from collections.abc import Iterator
from collections.abc import Mapping
from typing import Any

from peewee import SQL
from peewee import BigIntegerField
from peewee import BooleanField
from peewee import CharField
from peewee import Database
from peewee import DatabaseProxy
from peewee import ForeignKeyField
from peewee import IntegerField
from peewee import Model
from peewee import TextField

from peewee_authjs.fields import UserForeignKeyField
from peewee_authjs.fields import UTCDateTimeField
from peewee_authjs.fields import UUIDTextField

#: The model names :class:`~peewee_authjs.PeeweeAdapter` accepts in ``models=``, in creation order.
MODEL_NAMES = ("User", "Account", "Session", "VerificationToken", "Authenticator")


def _authjs_table_name(model: type[Model]) -> str:
    # Subclasses keep the Auth.js table name of the model they extend.
    for klass in model.__mro__:
        table = klass.__dict__.get("authjs_table")
        if table:
            return str(table)
    return model.__name__.lower()


class AuthModel(Model):
    """Base of the Auth.js models: explicit table names, no database."""

    #: The Auth.js table this model (and any subclass of it) maps to.
    authjs_table: str = ""

    class Meta:
        legacy_table_names = False
        table_function = _authjs_table_name


class User(AuthModel):
    """``users``: one row per person."""

    authjs_table = "users"

    id = UUIDTextField(primary_key=True)
    name = CharField(null=True)
    email = CharField(null=True)
    email_verified = UTCDateTimeField(null=True)
    image = CharField(null=True)

    class Meta:
        constraints = [SQL("UNIQUE (email)")]


def _user_key(null: bool) -> Any:
    options: dict[str, Any] = {
        "column_name": "user_id",
        "null": null,
        "on_delete": "CASCADE",
        "on_update": "CASCADE",
        "backref": "+",
        "index": True,
    }
    return UserForeignKeyField(User, **options)


class Account(AuthModel):
    """``accounts``: an OAuth/OIDC/email/WebAuthn identity linked to a user."""

    authjs_table = "accounts"

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
    user = _user_key(null=True)

    class Meta:
        indexes = ((("provider", "provider_account_id"), True),)


class Session(AuthModel):
    """``sessions``: database sessions, found by their token."""

    authjs_table = "sessions"

    id = UUIDTextField(primary_key=True)
    expires = UTCDateTimeField(index=True)
    session_token = CharField()
    user = _user_key(null=True)

    class Meta:
        constraints = [SQL("UNIQUE (session_token)")]


class VerificationToken(AuthModel):
    """``verification_tokens``: hashed e-mail sign-in tokens, single use."""

    authjs_table = "verification_tokens"

    token = CharField(primary_key=True)
    identifier = CharField(index=True)
    expires = UTCDateTimeField(index=True)


class Authenticator(AuthModel):
    """``authenticators``: WebAuthn credentials (absent from the Sequelize adapter)."""

    authjs_table = "authenticators"

    credential_id = CharField(primary_key=True)
    provider_account_id = CharField()
    credential_public_key = TextField()
    counter = BigIntegerField()
    credential_device_type = CharField()
    credential_backed_up = BooleanField()
    transports = CharField(null=True)
    user = _user_key(null=False)


#: The default model of each name.
DEFAULT_MODELS: dict[str, type[AuthModel]] = {
    "User": User,
    "Account": Account,
    "Session": Session,
    "VerificationToken": VerificationToken,
    "Authenticator": Authenticator,
}


class BoundModels:
    """The five models of one adapter, bound to its database (``adapter.models``)."""

    __slots__ = MODEL_NAMES

    User: type[User]
    Account: type[Account]
    Session: type[Session]
    VerificationToken: type[VerificationToken]
    Authenticator: type[Authenticator]

    def __init__(self, models: dict[str, type[AuthModel]]) -> None:
        for name in MODEL_NAMES:
            object.__setattr__(self, name, models[name])

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("adapter.models is read-only; pass models= to PeeweeAdapter instead")

    def __iter__(self) -> Iterator[type[AuthModel]]:
        """The models in creation order (users first)."""
        return iter([getattr(self, name) for name in MODEL_NAMES])

    def __repr__(self) -> str:
        inner = ", ".join(f"{name}={getattr(self, name).__name__}" for name in MODEL_NAMES)
        return f"BoundModels({inner})"


def _check_overrides(overrides: Mapping[str, Any]) -> None:
    from peewee_authjs.errors import InvalidInputError

    for name, model in overrides.items():
        if name not in DEFAULT_MODELS:
            known = ", ".join(MODEL_NAMES)
            raise InvalidInputError(f"models: unknown model name {name!r}; the names are: {known}", name)
        base = DEFAULT_MODELS[name]
        if not (isinstance(model, type) and issubclass(model, base)):
            raise InvalidInputError(
                f"models[{name!r}] must be a subclass of peewee_authjs.models.{name}", name
            )


def bind_models(
    database: Database | DatabaseProxy, overrides: Mapping[str, type[AuthModel]] | None = None
) -> BoundModels:
    """Subclasses of the chosen models bound to ``database``, their user keys pointing at its ``User``.

    The classes you pass are left untouched, so one set of classes can serve several databases.
    """
    overrides = dict(overrides or {})
    _check_overrides(overrides)
    chosen = {name: overrides.get(name, DEFAULT_MODELS[name]) for name in MODEL_NAMES}

    def bound(model: type[AuthModel], **attrs: Any) -> type[AuthModel]:
        meta = type("Meta", (), {"database": database, "table_name": model._meta.table_name})
        namespace = {"Meta": meta, "__module__": model.__module__, **attrs}
        return type(model.__name__, (model,), namespace)

    user_model = bound(chosen["User"])
    result: dict[str, type[AuthModel]] = {"User": user_model}
    for name in MODEL_NAMES[1:]:
        model = chosen[name]
        attrs: dict[str, Any] = {}
        key = model._meta.fields.get("user")
        if isinstance(key, ForeignKeyField):
            options: dict[str, Any] = {
                "column_name": key.column_name,
                "null": key.null,
                "on_delete": key.on_delete,
                "on_update": key.on_update,
                "backref": "+",
                "index": key.index,
            }
            attrs["user"] = UserForeignKeyField(user_model, **options)
        result[name] = bound(model, **attrs)
    return BoundModels(result)


__all__ = [
    "DEFAULT_MODELS",
    "BoundModels",
    "bind_models",
    "MODEL_NAMES",
    "Account",
    "AuthModel",
    "Authenticator",
    "Session",
    "User",
    "VerificationToken",
]
