"""Secrets never leave through logs, error messages, reprs or printed tracebacks.

The secrets are session tokens, verification tokens (raw or hashed), OAuth access,
refresh and id tokens, and WebAuthn public keys. Every logger is captured at DEBUG
(peewee's and ours included), and every error is checked as ``str``, ``repr`` and as
:func:`traceback.format_exception` prints it (with its chained causes).
"""

from __future__ import annotations

import logging
import traceback
import uuid
from collections.abc import Callable
from collections.abc import Iterator
from typing import Any

import pytest

from peewee_authjs import AdapterError
from peewee_authjs import DuplicateError
from peewee_authjs import InvalidInputError
from peewee_authjs import PeeweeAdapter
from tests.concurrency import EXPIRES


def _secret(kind: str) -> str:
    return f"{kind}-S3CRET-{uuid.uuid4().hex}"


SESSION_TOKEN = _secret("session")
RAW_TOKEN = _secret("raw-verification")
HASHED_TOKEN = _secret("hashed-verification")
ACCESS_TOKEN = _secret("access")
REFRESH_TOKEN = _secret("refresh")
ID_TOKEN = _secret("id")
PUBLIC_KEY = _secret("public-key")
SECRETS = (SESSION_TOKEN, RAW_TOKEN, HASHED_TOKEN, ACCESS_TOKEN, REFRESH_TOKEN, ID_TOKEN, PUBLIC_KEY)


class Leaks:
    """Everything that could end up in a log or an error report, collected as text."""

    def __init__(self, caplog: pytest.LogCaptureFixture) -> None:
        self.caplog = caplog
        self.texts: list[str] = []

    def error(self, call: Callable[[], Any], expected: type[AdapterError]) -> AdapterError:
        """Run ``call``, which must raise ``expected``; keep the error's every printed form."""
        with pytest.raises(expected) as raised:
            call()
        error = raised.value
        self.texts += [str(error), repr(error), "".join(traceback.format_exception(error))]
        return error

    def assert_clean(self) -> None:
        """No secret in any collected text nor in any log record (message, arguments, exception)."""
        formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
        records = self.caplog.records
        assert any(record.name.startswith("peewee") for record in records), "no log record captured"
        texts = self.texts + [formatter.format(record) + repr(record.args) for record in records]
        for secret in SECRETS:
            leaked = [text for text in texts if secret in text]
            assert leaked == [], f"a secret leaked: {leaked[0][:300]!r}"


@pytest.fixture
def leaks(caplog: pytest.LogCaptureFixture) -> Iterator[Leaks]:
    """Logs of every logger captured at DEBUG while the test runs."""
    caplog.set_level(logging.DEBUG)
    for name in ("peewee", "peewee_authjs", "peewee_authjs.sql"):
        caplog.set_level(logging.DEBUG, logger=name)
    yield Leaks(caplog)


def _account(user_id: str, provider_account_id: str = "1") -> dict[str, Any]:
    return {
        "user_id": user_id,
        "type": "oidc",
        "provider": "google",
        "provider_account_id": provider_account_id,
        "access_token": ACCESS_TOKEN,
        "refresh_token": REFRESH_TOKEN,
        "id_token": ID_TOKEN,
    }


def _authenticator(user_id: str) -> dict[str, Any]:
    return {
        "credential_id": "cred-1",
        "user_id": user_id,
        "provider_account_id": "cred-1",
        "credential_public_key": PUBLIC_KEY,
        "counter": 0,
        "credential_device_type": "singleDevice",
        "credential_backed_up": False,
    }


def test_a_whole_sign_in_life_logs_no_secret(adapter: PeeweeAdapter, leaks: Leaks) -> None:
    """Every method, run with secrets at DEBUG: the SQL is logged, no secret is."""
    user = adapter.create_user({"email": "ada@example.com"})
    adapter.link_account(_account(user["id"]))
    assert adapter.get_user_by_account("google", "1") == user
    assert adapter.get_account("google", "1") is not None
    adapter.create_session({"session_token": SESSION_TOKEN, "user_id": user["id"], "expires": EXPIRES})
    assert adapter.get_session_and_user(SESSION_TOKEN) is not None
    assert adapter.update_session({"session_token": SESSION_TOKEN, "expires": EXPIRES}) is not None
    assert adapter.delete_session(SESSION_TOKEN) is not None
    for token in (RAW_TOKEN, HASHED_TOKEN):
        adapter.create_verification_token(
            {"identifier": "ada@example.com", "token": token, "expires": EXPIRES}
        )
    assert adapter.use_verification_token("ada@example.com", RAW_TOKEN) is not None
    assert adapter.use_verification_token(None, HASHED_TOKEN) is not None
    adapter.create_authenticator(_authenticator(user["id"]))
    assert adapter.get_authenticator("cred-1") is not None
    assert adapter.list_authenticators_by_user_id(user["id"])
    assert adapter.update_authenticator_counter("cred-1", 5)["counter"] == 5
    assert adapter.unlink_account("google", "1") is not None
    assert adapter.delete_user(user["id"]) == user
    leaks.texts += [repr(adapter), repr(adapter.models), str(adapter)]
    assert any("sessions" in record.getMessage() for record in leaks.caplog.records)
    leaks.assert_clean()


def test_duplicate_keys_that_drivers_quote_do_not_leak(
    adapter: PeeweeAdapter, backend: str, leaks: Leaks
) -> None:
    """Duplicate secrets (PostgreSQL's DETAIL and MySQL's "Duplicate entry" quote them) stay out of errors.

    The driver's own message is checked to hold the secret on those backends, so the test
    sees the error that could leak; the DuplicateError names the table and key only.
    """
    user = adapter.create_user({"email": "ada@example.com"})
    session = {"session_token": SESSION_TOKEN, "user_id": user["id"], "expires": EXPIRES}
    token = {"identifier": "ada@example.com", "token": HASHED_TOKEN, "expires": EXPIRES}
    duplicates: list[tuple[Callable[[], Any], str]] = [
        (lambda: adapter.create_session(session), SESSION_TOKEN),
        (lambda: adapter.create_verification_token(token), HASHED_TOKEN),
        (lambda: adapter.create_authenticator(_authenticator(user["id"])), ""),
        (lambda: adapter.link_account(_account(user["id"])), ""),
    ]
    for create, _secret_value in duplicates:
        create()
    for create, secret_value in duplicates:
        error = leaks.error(create, DuplicateError)
        assert isinstance(error, DuplicateError) and error.table and error.key
        assert error.__cause__ is None and error.__suppress_context__
        driver_text = str(error.__context__)
        if secret_value and backend != "sqlite":
            assert secret_value in driver_text, "the driver did not quote the value: nothing was tested"
    leaks.assert_clean()


def test_refused_values_are_named_not_quoted(adapter: PeeweeAdapter, leaks: Leaks) -> None:
    """Secrets in refused values (too long, NUL, lone surrogate, camelCase key): the field is named, the value is not."""
    user = adapter.create_user({"email": "ada@example.com"})
    long_token = SESSION_TOKEN * 10
    cases: list[tuple[Callable[[], Any], str]] = [
        (
            lambda: adapter.create_session(
                {"session_token": long_token, "user_id": user["id"], "expires": EXPIRES}
            ),
            "session_token",
        ),
        (
            lambda: adapter.create_session(
                {"session_token": SESSION_TOKEN + "\x00", "user_id": user["id"], "expires": EXPIRES}
            ),
            "session_token",
        ),
        (
            lambda: adapter.link_account({**_account(user["id"]), "access_token": ACCESS_TOKEN + "\ud800"}),
            "access_token",
        ),
        (
            lambda: adapter.link_account({**_account(user["id"]), "refresh_token": [REFRESH_TOKEN]}),
            "refresh_token",
        ),
        (lambda: adapter.link_account({**_account(user["id"]), "idToken": ID_TOKEN}), "idToken"),
        (
            lambda: adapter.create_verification_token(
                {"identifier": "ada@example.com", "token": RAW_TOKEN * 10, "expires": EXPIRES}
            ),
            "token",
        ),
        (
            lambda: adapter.create_authenticator(
                {**_authenticator(user["id"]), "credential_public_key": PUBLIC_KEY + "\x00"}
            ),
            "credential_public_key",
        ),
        (
            lambda: adapter.update_session(
                {"session_token": SESSION_TOKEN, "expires": EXPIRES.replace(tzinfo=None)}
            ),
            "expires",
        ),
    ]
    for call, field in cases:
        error = leaks.error(call, InvalidInputError)
        assert field in str(error)
    leaks.assert_clean()
