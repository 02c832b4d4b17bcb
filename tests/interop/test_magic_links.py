"""Magic links issued by one app are consumed by the other, hashed the Auth.js way.

Auth.js puts the raw token (32 random bytes as 64 lowercase hex digits) in the link
and stores ``sha256_hex(raw_token + secret)``; both apps share ``AUTH_SECRET``. The
Python side is :class:`peewee_authjs.email_signin.EmailSignIn`; the JS side runs
@auth/core's own ``randomString`` and ``createHash``, its send-token step and its
callback's checks and sign-in (``issueMagicLink``/``consumeMagicLink`` in ``authjs.mjs``).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import pytest

from peewee_authjs import PeeweeAdapter
from peewee_authjs.email_signin import EmailSignIn
from peewee_authjs.email_signin import hash_token
from peewee_authjs.errors import VerificationError
from peewee_authjs.fields import utcnow
from peewee_authjs.sessions import SessionManager
from tests.interop.node import op
from tests.interop.node import to_py
from tests.interop.records import kept_dates
from tests.interop.schemas import Shared

SECRET = "a-shared-AUTH_SECRET-value"
BASE_URL = "https://app.example.com"


class Outbox:
    """A link sender that keeps the links (email, raw token) instead of mailing them."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def __call__(self, email: str, url: str) -> None:
        query = parse_qs(urlsplit(url).query)
        assert query["email"] == [email]
        self.sent.append((email, query["token"][0]))


def email_signin(adapter: PeeweeAdapter, outbox: Outbox, days_ago: float = 0) -> EmailSignIn:
    """The Python app's e-mail sign-in, its clock ``days_ago`` in the past."""
    sessions = SessionManager(adapter, clock=lambda: utcnow() - timedelta(days=days_ago))
    return EmailSignIn(adapter, sessions, secret=SECRET, base_url=BASE_URL, send=outbox)


def test_hash_token_is_auth_js_create_hash(shared: Shared) -> None:
    """The library's hash_token gives @auth/core's createHash(`${token}${secret}`), also for non-ASCII."""
    raw = secrets.token_hex(32)
    pairs = [(raw, SECRET), (raw, "sécret-🔑"), ("", "s")]
    hashes = shared.js.batch(*(op("hash", token + secret) for token, secret in pairs))
    assert hashes == [hash_token(token, secret) for token, secret in pairs]
    assert hashes[0] == hashlib.sha256((raw + SECRET).encode()).hexdigest()


def test_link_sent_by_python_signs_in_on_node(shared: Shared) -> None:
    """A link sent by EmailSignIn.send_link is accepted once by Auth.js's callback on the JS adapter,
    which signs the address in; a second click is refused. A link sent 2 days ago (expired) reads back
    as a valid past JS Date, so Auth.js refuses it as expired, and consuming it deleted it."""
    outbox = Outbox()
    email = f"py-link-{secrets.token_hex(4)}@example.com"
    old_email = f"py-old-{secrets.token_hex(4)}@example.com"
    assert email_signin(shared.py, outbox).send_link(email) == email
    email_signin(shared.py, outbox, days_ago=2).send_link(old_email)
    (_, raw), (_, old_raw) = outbox.sent
    first, second, expired = shared.js.batch(
        op("consumeMagicLink", {"identifier": email, "token": raw, "secret": SECRET, "signIn": True}),
        op("consumeMagicLink", {"identifier": email, "token": raw, "secret": SECRET}),
        op("consumeMagicLink", {"identifier": old_email, "token": old_raw, "secret": SECRET}),
    )
    assert first["accepted"] is True
    assert to_py(first["invite"])["token"] == hash_token(raw, SECRET)
    assert to_py(first["user"])["email"] == email
    found = shared.py.get_session_and_user(first["session"]["sessionToken"])
    assert found is not None and found["user"]["id"] == first["user"]["id"]
    assert second == {"accepted": False, "expired": False, "invite": None}
    assert (expired["accepted"], expired["expired"]) == (False, True)
    assert shared.py.use_verification_token(old_email, hash_token(old_raw, SECRET)) is None


def test_link_sent_by_node_signs_in_on_python(shared: Shared) -> None:
    """A link made by @auth/core's send-token logic on the JS adapter (64 hex digits, 24 h) signs the
    address in through EmailSignIn.sign_in, once; the Next.js side then sees that user and session."""
    email = f"js-link-{secrets.token_hex(4)}@example.com"
    before = utcnow()
    issued = shared.js.call("issueMagicLink", {"identifier": email, "secret": SECRET})
    raw, stored = issued["token"], to_py(issued["stored"])
    assert re.fullmatch(r"[0-9a-f]{64}", raw)
    assert stored["token"] == hash_token(raw, SECRET)
    assert (
        timedelta(hours=24) - timedelta(seconds=1)
        <= stored["expires"] - before
        <= timedelta(hours=24, minutes=2)
    )

    signin = email_signin(shared.py, Outbox())
    user, session = signin.sign_in(email, raw)
    with pytest.raises(VerificationError):
        signin.sign_in(email, raw)
    seen, by_email = shared.js.batch(
        op("getSessionAndUser", session["session_token"]),
        op("getUserByEmail", email),
    )
    assert to_py(seen["session"]) == kept_dates(session, shared.backend, shared.schema, "py")
    assert to_py(seen["user"]) == to_py(by_email) == kept_dates(user, shared.backend, shared.schema, "py")
    assert user["email_verified"] is not None


def test_python_purge_compares_dates_written_by_node(shared: Shared) -> None:
    """EmailSignIn.purge_expired (an SQL `expires < now`) deletes the expired links the JS side issued
    and keeps its live ones, next to Python's own: the dates of both sides compare in SQL."""
    live_email, old_email = (f"{name}-{secrets.token_hex(4)}@example.com" for name in ("live", "old"))
    live, old = shared.js.batch(
        op("issueMagicLink", {"identifier": live_email, "secret": SECRET}),
        op("issueMagicLink", {"identifier": old_email, "secret": SECRET, "maxAge": -60}),
    )
    outbox = Outbox()
    signin = email_signin(shared.py, outbox)
    signin.send_link(f"py-{secrets.token_hex(4)}@example.com")
    email_signin(shared.py, outbox, days_ago=2).send_link(f"py-old-{secrets.token_hex(4)}@example.com")
    assert signin.purge_expired() == 2
    assert shared.py.use_verification_token(old_email, hash_token(old["token"], SECRET)) is None
    accepted = shared.js.call(
        "consumeMagicLink", {"identifier": live_email, "token": live["token"], "secret": SECRET}
    )
    assert accepted["accepted"] is True
    (py_email, py_raw), _ = outbox.sent
    assert shared.py.use_verification_token(py_email, hash_token(py_raw, SECRET)) is not None
