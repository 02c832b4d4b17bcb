"""The limit: each adapter operation as minimal hand-written SQL on the raw driver.

A :class:`RawBaseline` does what a careful developer would write by hand with the
stdlib ``sqlite3`` module or ``psycopg2``: the same statements the adapter runs
(the same JOIN, the same RETURNING, the same transaction around multi-statement
writes), the same connection mode (autocommit, as Peewee opens it) and, on SQLite,
the same pragmas (:data:`peewee_authjs.database.SQLITE_PRAGMAS`). It builds the
same plain dicts with aware UTC datetimes. It does not validate its input: that
is part of what the adapter adds, and part of what the ratio measures.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable
from datetime import datetime
from datetime import timezone
from typing import Any

from peewee_authjs.database import SQLITE_PRAGMAS

UTC = timezone.utc
_fromiso = datetime.fromisoformat

USER = ("id", "name", "email", "email_verified", "image")
ACCOUNT = (
    "id",
    "type",
    "provider",
    "provider_account_id",
    "refresh_token",
    "access_token",
    "expires_at",
    "token_type",
    "scope",
    "id_token",
    "session_state",
    "user_id",
)
SESSION = ("id", "expires", "session_token", "user_id")
TOKEN = ("token", "identifier", "expires")
AUTHENTICATOR = (
    "credential_id",
    "provider_account_id",
    "credential_public_key",
    "counter",
    "credential_device_type",
    "credential_backed_up",
    "transports",
    "user_id",
)


def _cols(names: tuple[str, ...]) -> str:
    return ", ".join(f'"{name}"' for name in names)


def _sqlite_decode(text: str | None) -> datetime | None:
    # Sequelize's "YYYY-MM-DD HH:MM:SS.mmm +00:00": the fastest correct parse we know.
    return None if text is None else _fromiso(text[:23] + "+00:00")


def _sqlite_encode(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:23] + " +00:00"


def _pg_decode(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC)


def _pg_encode(value: datetime) -> datetime:
    return value


class RawBaseline:
    """Hand-written SQL for every adapter operation, on one raw DB-API connection.

    :param connection: a DB-API connection in autocommit mode.
    :param dialect: ``"sqlite"`` or ``"postgres"``.
    """

    def __init__(self, connection: Any, dialect: str) -> None:
        self.con = connection
        self.dialect = dialect
        self.sqlite = dialect == "sqlite"
        self.dec: Callable[[Any], Any] = _sqlite_decode if self.sqlite else _pg_decode
        self.enc: Callable[[datetime], Any] = _sqlite_encode if self.sqlite else _pg_encode
        self.begin = "BEGIN IMMEDIATE" if self.sqlite else "BEGIN"
        lock = "" if self.sqlite else " FOR UPDATE"
        p = "?" if self.sqlite else "%s"

        def q(sql: str) -> str:
            return sql.replace("?", p)

        u, a, s, t, w = _cols(USER), _cols(ACCOUNT), _cols(SESSION), _cols(TOKEN), _cols(AUTHENTICATOR)
        self.sql_get_user = q(f'SELECT {u} FROM "users" WHERE "id" = ?')
        self.sql_get_user_by_email = q(f'SELECT {u} FROM "users" WHERE "email" = ?')
        self.sql_get_user_by_account = q(
            'SELECT u."id", u."name", u."email", u."email_verified", u."image" FROM "users" AS u '
            'JOIN "accounts" AS a ON a."user_id" = u."id" '
            'WHERE a."provider" = ? AND a."provider_account_id" = ? LIMIT 1'
        )
        self.sql_get_session_and_user = q(
            'SELECT s."id", s."expires", s."session_token", s."user_id", '
            'u."id", u."name", u."email", u."email_verified", u."image" '
            'FROM "sessions" AS s JOIN "users" AS u ON s."user_id" = u."id" '
            'WHERE s."session_token" = ?'
        )
        self.sql_insert_user = q(f'INSERT INTO "users" ({u}) VALUES (?, ?, ?, ?, ?)')
        self.sql_update_user_name = q(f'UPDATE "users" SET "name" = ? WHERE "id" = ? RETURNING {u}')
        self.sql_user_for_update = q(f'SELECT {u} FROM "users" WHERE "id" = ?{lock}')
        self.sql_delete_children = [
            q(f'DELETE FROM "{table}" WHERE "user_id" = ?')
            for table in ("authenticators", "sessions", "accounts")
        ]
        self.sql_delete_user = q('DELETE FROM "users" WHERE "id" = ?')
        self.sql_insert_account = q(f'INSERT INTO "accounts" ({a}) VALUES ({", ".join("?" * 12)})')
        self.sql_get_account = q(
            f'SELECT {a} FROM "accounts" WHERE "provider" = ? AND "provider_account_id" = ? LIMIT 1'
        )
        self.sql_unlink_account = q(
            f'DELETE FROM "accounts" WHERE "provider" = ? AND "provider_account_id" = ? RETURNING {a}'
        )
        self.sql_insert_session = q(f'INSERT INTO "sessions" ({s}) VALUES (?, ?, ?, ?)')
        self.sql_update_session = q(
            f'UPDATE "sessions" SET "expires" = ? WHERE "session_token" = ? RETURNING {s}'
        )
        self.sql_delete_session = q(f'DELETE FROM "sessions" WHERE "session_token" = ? RETURNING {s}')
        self.sql_insert_token = q(f'INSERT INTO "verification_tokens" ({t}) VALUES (?, ?, ?)')
        self.sql_use_token = q(
            f'DELETE FROM "verification_tokens" WHERE "identifier" = ? AND "token" = ? RETURNING {t}'
        )
        self.sql_insert_authenticator = q(
            f'INSERT INTO "authenticators" ({w}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'
        )
        self.sql_get_authenticator = q(f'SELECT {w} FROM "authenticators" WHERE "credential_id" = ?')
        self.sql_list_authenticators = q(
            f'SELECT {w} FROM "authenticators" WHERE "user_id" = ? ORDER BY "credential_id"'
        )
        self.sql_update_counter = q(
            f'UPDATE "authenticators" SET "counter" = ? WHERE "credential_id" = ? RETURNING {w}'
        )

    @classmethod
    def sqlite(cls, path: str) -> RawBaseline:
        """A baseline on the SQLite file ``path``, opened as Peewee opens it, with the same pragmas."""
        con = sqlite3.connect(path, timeout=5.0, isolation_level=None)
        for name, value in SQLITE_PRAGMAS.items():
            con.execute(f"PRAGMA {name} = {value}")
        return cls(con, "sqlite")

    @classmethod
    def postgres(cls, url: str) -> RawBaseline:
        """A baseline on PostgreSQL through psycopg2, in autocommit mode as Peewee uses it."""
        import psycopg2

        con = psycopg2.connect(url)
        con.autocommit = True
        return cls(con, "postgres")

    def close(self) -> None:
        self.con.close()

    def _one(self, sql: str, params: tuple[Any, ...]) -> Any:
        cur = self.con.cursor()
        cur.execute(sql, params)
        return cur.fetchone()

    def _all(self, sql: str, params: tuple[Any, ...]) -> list[Any]:
        cur = self.con.cursor()
        cur.execute(sql, params)
        return cur.fetchall()

    def _run(self, sql: str, params: tuple[Any, ...]) -> None:
        self.con.cursor().execute(sql, params)

    # -- row builders ----------------------------------------------------------------------

    def _user(self, r: Any) -> dict[str, Any]:
        return {"id": str(r[0]), "name": r[1], "email": r[2], "email_verified": self.dec(r[3]), "image": r[4]}

    def _session(self, r: Any) -> dict[str, Any]:
        return {"id": str(r[0]), "expires": self.dec(r[1]), "session_token": r[2], "user_id": str(r[3])}

    def _account(self, r: Any) -> dict[str, Any]:
        record = dict(zip(ACCOUNT, r, strict=True))
        record["id"] = str(r[0])
        record["user_id"] = str(r[11])
        return record

    def _token(self, r: Any) -> dict[str, Any]:
        return {"token": r[0], "identifier": r[1], "expires": self.dec(r[2])}

    def _authenticator(self, r: Any) -> dict[str, Any]:
        record = dict(zip(AUTHENTICATOR, r, strict=True))
        record["credential_backed_up"] = bool(r[5])
        record["user_id"] = str(r[7])
        return record

    # -- users -----------------------------------------------------------------------------

    def create_user(self, user: dict[str, Any]) -> dict[str, Any]:
        record = {
            "id": str(uuid.uuid4()),
            "name": user.get("name"),
            "email": user["email"].lower(),
            "email_verified": user.get("email_verified"),
            "image": user.get("image"),
        }
        verified = record["email_verified"]
        self._run(
            self.sql_insert_user,
            (record["id"], record["name"], record["email"],
             None if verified is None else self.enc(verified), record["image"]),
        )
        return record

    def get_user(self, user_id: str) -> dict[str, Any] | None:
        r = self._one(self.sql_get_user, (user_id,))
        return None if r is None else self._user(r)

    def get_user_by_email(self, email: str) -> dict[str, Any] | None:
        r = self._one(self.sql_get_user_by_email, (email.lower(),))
        return None if r is None else self._user(r)

    def get_user_by_account(self, provider: str, provider_account_id: str) -> dict[str, Any] | None:
        r = self._one(self.sql_get_user_by_account, (provider, provider_account_id))
        return None if r is None else self._user(r)

    def update_user(self, user: dict[str, Any]) -> dict[str, Any] | None:
        r = self._one(self.sql_update_user_name, (user["name"], user["id"]))
        return None if r is None else self._user(r)

    def delete_user(self, user_id: str) -> dict[str, Any] | None:
        cur = self.con.cursor()
        cur.execute(self.begin)
        try:
            cur.execute(self.sql_user_for_update, (user_id,))
            r = cur.fetchone()
            if r is not None:
                for sql in self.sql_delete_children:
                    cur.execute(sql, (user_id,))
                cur.execute(self.sql_delete_user, (user_id,))
            cur.execute("COMMIT")
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        return None if r is None else self._user(r)

    # -- accounts --------------------------------------------------------------------------

    def link_account(self, account: dict[str, Any]) -> dict[str, Any]:
        record = {key: account.get(key) for key in ACCOUNT}
        record["id"] = str(uuid.uuid4())
        self._run(self.sql_insert_account, tuple(record.values()))
        return record

    def get_account(self, provider: str, provider_account_id: str) -> dict[str, Any] | None:
        r = self._one(self.sql_get_account, (provider, provider_account_id))
        return None if r is None else self._account(r)

    def unlink_account(self, provider: str, provider_account_id: str) -> dict[str, Any] | None:
        rows = self._all(self.sql_unlink_account, (provider, provider_account_id))
        return self._account(rows[0]) if rows else None

    # -- sessions --------------------------------------------------------------------------

    def create_session(self, session: dict[str, Any]) -> dict[str, Any]:
        record = {
            "id": str(uuid.uuid4()),
            "expires": session["expires"],
            "session_token": session["session_token"],
            "user_id": session["user_id"],
        }
        self._run(
            self.sql_insert_session,
            (record["id"], self.enc(record["expires"]), record["session_token"], record["user_id"]),
        )
        return record

    def get_session_and_user(self, session_token: str) -> dict[str, Any] | None:
        r = self._one(self.sql_get_session_and_user, (session_token,))
        if r is None:
            return None
        dec = self.dec
        return {
            "session": {"id": str(r[0]), "expires": dec(r[1]), "session_token": r[2], "user_id": str(r[3])},
            "user": {"id": str(r[4]), "name": r[5], "email": r[6], "email_verified": dec(r[7]), "image": r[8]},
        }

    def update_session(self, session: dict[str, Any]) -> dict[str, Any] | None:
        r = self._one(self.sql_update_session, (self.enc(session["expires"]), session["session_token"]))
        return None if r is None else self._session(r)

    def delete_session(self, session_token: str) -> dict[str, Any] | None:
        rows = self._all(self.sql_delete_session, (session_token,))
        return self._session(rows[0]) if rows else None

    # -- verification tokens ---------------------------------------------------------------

    def create_verification_token(self, token: dict[str, Any]) -> dict[str, Any]:
        record = {"token": token["token"], "identifier": token["identifier"], "expires": token["expires"]}
        self._run(self.sql_insert_token, (record["token"], record["identifier"], self.enc(record["expires"])))
        return record

    def use_verification_token(self, identifier: str, token: str) -> dict[str, Any] | None:
        rows = self._all(self.sql_use_token, (identifier, token))
        return self._token(rows[0]) if rows else None

    # -- authenticators --------------------------------------------------------------------

    def create_authenticator(self, authenticator: dict[str, Any]) -> dict[str, Any]:
        record = {key: authenticator.get(key) for key in AUTHENTICATOR}
        self._run(self.sql_insert_authenticator, tuple(record.values()))
        return record

    def get_authenticator(self, credential_id: str) -> dict[str, Any] | None:
        r = self._one(self.sql_get_authenticator, (credential_id,))
        return None if r is None else self._authenticator(r)

    def list_authenticators_by_user_id(self, user_id: str) -> list[dict[str, Any]]:
        return [self._authenticator(r) for r in self._all(self.sql_list_authenticators, (user_id,))]

    def update_authenticator_counter(self, credential_id: str, counter: int) -> dict[str, Any] | None:
        r = self._one(self.sql_update_counter, (counter, credential_id))
        return None if r is None else self._authenticator(r)
