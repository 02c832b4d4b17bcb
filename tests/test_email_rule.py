"""One e-mail rule on every backend: case is folded by the adapter, nothing else is folded by anyone.

The adapter lowercases e-mails on write and on lookup (Auth.js lowercases before it
calls the adapter, so both sides agree). MariaDB's default collations would also fold
accents and ignore trailing spaces; the tables the library creates compare bytes, so
``josé@x.io`` and ``jose@x.io``, or ``ada@x.io`` and ``ada@x.io `` stay different users,
as on PostgreSQL and SQLite.
"""

from __future__ import annotations

import pytest
from peewee import Database

from peewee_authjs import DuplicateError
from peewee_authjs import InvalidInputError
from peewee_authjs import PeeweeAdapter
from tests.helpers import rows

CASE_VARIANTS = ["Ada@Example.IO", "ADA@EXAMPLE.IO", "ada@example.io", "aDa@eXaMpLe.Io"]
#: Addresses the library keeps apart: accents, trailing and leading spaces, look-alike letters.
DISTINCT = [
    "ada@example.io",
    "ada@example.io ",
    " ada@example.io",
    "ada@exämple.io",
    "josé@example.io",
    "jose@example.io",
    "straße@example.io",
    "strasse@example.io",
]


def test_email_is_stored_lowercased(adapter: PeeweeAdapter, database: Database) -> None:
    """``create_user`` and ``update_user`` store the address lowercased, as Auth.js would send it."""
    user = adapter.create_user({"email": "Ada@Example.IO"})
    assert user["email"] == "ada@example.io"
    assert rows(database, "SELECT email FROM users") == [{"email": "ada@example.io"}]
    updated = adapter.update_user({"id": user["id"], "email": "ADA.Lovelace@Example.IO"})
    assert updated is not None and updated["email"] == "ada.lovelace@example.io"
    assert rows(database, "SELECT email FROM users") == [{"email": "ada.lovelace@example.io"}]


def test_case_variants_are_one_email(adapter: PeeweeAdapter, database: Database) -> None:
    """Every case variant finds the user; creating or renaming to one is a DuplicateError on ``email``."""
    user = adapter.create_user({"email": "Ada@Example.IO"})
    other = adapter.create_user({"email": "bob@example.io"})
    for variant in CASE_VARIANTS:
        assert adapter.get_user_by_email(variant) == user
        with pytest.raises(DuplicateError) as raised:
            adapter.create_user({"email": variant})
        assert raised.value.key == "email"
        with pytest.raises(DuplicateError):
            adapter.update_user({"id": other["id"], "email": variant})
    assert sorted(row["email"] for row in rows(database, "SELECT email FROM users")) == [
        "ada@example.io",
        "bob@example.io",
    ]


def test_accents_and_spaces_are_not_folded(adapter: PeeweeAdapter, database: Database) -> None:
    """Addresses that differ by an accent, a space or a letter are distinct users, each found by its own address."""
    users = {email: adapter.create_user({"email": email}) for email in DISTINCT}
    for email, user in users.items():
        assert user["email"] == email
        assert adapter.get_user_by_email(email) == user
        assert adapter.get_user_by_email(email[:2].upper() + email[2:]) == user
    stored = sorted(row["email"] for row in rows(database, "SELECT email FROM users"))
    assert stored == sorted(DISTINCT)


def test_an_address_absent_in_every_form_is_none(adapter: PeeweeAdapter) -> None:
    """A lookup that differs by an accent or a trailing space finds nobody."""
    adapter.create_user({"email": "jose@example.io"})
    assert adapter.get_user_by_email("josé@example.io") is None
    assert adapter.get_user_by_email("jose@example.io ") is None
    assert adapter.get_user_by_email("jose@example.io\t") is None


def test_an_address_that_lowercasing_lengthens_past_the_column_is_refused(
    adapter: PeeweeAdapter, database: Database
) -> None:
    """255 characters that lowercase to more (``İ`` becomes two) are refused on every backend, naming the field.

    Checked after lowercasing, so SQLite does not store what PostgreSQL and MySQL would refuse.
    """
    for email in ("İ" * 255, "İ" * 128):
        with pytest.raises(InvalidInputError, match="user.email") as raised:
            adapter.create_user({"email": email})
        assert raised.value.field == "user.email"
    user = adapter.create_user({"email": "İ" * 127})
    assert user["email"] == "i̇" * 127 and len(user["email"]) == 254
    assert rows(database, "SELECT COUNT(*) AS n FROM users") == [{"n": 1}]
