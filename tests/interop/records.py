"""Records for the interop suite, with the Python (column) names, and what a backend keeps of them."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Mapping
from datetime import datetime
from datetime import timedelta
from typing import Any

from peewee_authjs.fields import UTC
from peewee_authjs.fields import utcnow
from tests.interop.schemas import SEQUELIZE_DATETIMES


def new_id() -> str:
    """A uuid v4 string, as Auth.js generates ids."""
    return str(uuid.uuid4())


def with_millis(value: datetime, millis: int = 678) -> datetime:
    """``value`` at ``millis`` past its second, so that a dropped millisecond shows."""
    return value.replace(microsecond=millis * 1000)


def later(days: float) -> datetime:
    """An instant ``days`` from now, with non-zero milliseconds."""
    return with_millis(utcnow() + timedelta(days=days))


def user_record(**extra: Any) -> dict[str, Any]:
    """A user with every column set (e-mail lowercase, ``email_verified`` with milliseconds)."""
    return {
        "id": new_id(),
        "name": "Zoë Lovelace-Ñúñez 🚀",
        "email": f"ada-{secrets.token_hex(4)}@example.com",
        "email_verified": with_millis(datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC), 123),
        "image": "https://example.com/ada.png",
        **extra,
    }


def bare_user_record() -> dict[str, Any]:
    """A user as WebAuthn/e-mail sign-up passes it: an id and an e-mail, no ``emailVerified``."""
    return {"id": new_id(), "email": f"bare-{secrets.token_hex(4)}@example.com"}


def full_user(record: Mapping[str, Any]) -> dict[str, Any]:
    """``record`` with every user column (absent ones null)."""
    return {"name": None, "email_verified": None, "image": None, **record}


def account_record(user_id: str) -> dict[str, Any]:
    """An OAuth account with every token column set (``expires_at`` in unix seconds)."""
    return {
        "user_id": user_id,
        "type": "oauth",
        "provider": "github",
        "provider_account_id": secrets.token_hex(6),
        "refresh_token": secrets.token_urlsafe(24),
        "access_token": secrets.token_urlsafe(24),
        "expires_at": 1_900_000_000,
        "token_type": "bearer",
        "scope": "read:user user:email",
        "id_token": "eyJ" + secrets.token_urlsafe(300),
        "session_state": secrets.token_hex(8),
    }


def session_record(user_id: str, days: float = 30) -> dict[str, Any]:
    """A database session as Auth.js creates it (uuid token, expiry in ``days``)."""
    return {"session_token": new_id(), "user_id": user_id, "expires": later(days)}


def token_record(identifier: str | None = None) -> dict[str, Any]:
    """A verification token row (an already hashed token)."""
    return {
        "identifier": identifier or f"link-{secrets.token_hex(4)}@example.com",
        "token": secrets.token_hex(32),
        "expires": later(1),
    }


def kept(value: datetime | None, backend: str, schema: str, writer: str) -> datetime | None:
    """What the database returns of ``value`` written by ``writer`` (``"js"`` or ``"py"``).

    Every backend keeps milliseconds, except MySQL/MariaDB: Sequelize writes its
    ``DATE`` without them whatever the column, and a Sequelize-made ``DATETIME``
    column has no fraction (MariaDB truncates what the Python side sends), also
    after the migrations adopted it.
    """
    if value is None or backend != "mysql":
        return value
    if writer == "js" or schema in SEQUELIZE_DATETIMES:
        return value.replace(microsecond=0)
    return value


def kept_dates(record: Mapping[str, Any], backend: str, schema: str, writer: str) -> dict[str, Any]:
    """``record`` with each datetime as :func:`kept` says the database returns it."""
    return {
        key: kept(value, backend, schema, writer) if isinstance(value, datetime) else value
        for key, value in record.items()
    }
