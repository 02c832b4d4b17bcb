"""Magic links issued by one side are consumed by the other, hashed the Auth.js way.

Auth.js sends the raw token (32 random bytes as 64 lowercase hex digits) in the link
and stores ``sha256_hex(raw_token + secret)``; both sides share ``AUTH_SECRET``. The
JS side here runs @auth/core's own ``randomString`` and ``createHash`` and its
callback's checks (``issueMagicLink``/``consumeMagicLink`` in ``authjs.mjs``).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

from peewee_authjs.fields import utcnow
from tests.interop.node import op
from tests.interop.node import to_py
from tests.interop.records import kept_dates
from tests.interop.records import later
from tests.interop.schemas import Shared

SECRET = "a-shared-AUTH_SECRET-value"


def hash_token(raw_token: str, secret: str) -> str:
    """Auth.js's stored form of a magic-link token (hashed here with hashlib, independently of the library)."""
    return hashlib.sha256(f"{raw_token}{secret}".encode()).hexdigest()


def test_link_issued_by_python_is_consumed_by_node(shared: Shared) -> None:
    """A token stored by Python as sha256(raw + secret) is accepted once by Auth.js's callback logic
    on the JS adapter, with the same hash as @auth/core computes; a second click is refused. An expired
    one reads back as a valid past JS Date, so Auth.js refuses it as expired (an Invalid Date would never
    count as expired), and consuming it deleted it."""
    raw, old_raw = secrets.token_hex(32), secrets.token_hex(32)
    identifier = f"py-link-{secrets.token_hex(4)}@example.com"
    old_identifier = f"py-old-{secrets.token_hex(4)}@example.com"
    stored = shared.py.create_verification_token(
        {"identifier": identifier, "token": hash_token(raw, SECRET), "expires": later(1)}
    )
    shared.py.create_verification_token(
        {"identifier": old_identifier, "token": hash_token(old_raw, SECRET), "expires": later(-1)}
    )
    js_hash, first, second, expired = shared.js.batch(
        op("hash", f"{raw}{SECRET}"),
        op("consumeMagicLink", {"identifier": identifier, "token": raw, "secret": SECRET}),
        op("consumeMagicLink", {"identifier": identifier, "token": raw, "secret": SECRET}),
        op("consumeMagicLink", {"identifier": old_identifier, "token": old_raw, "secret": SECRET}),
    )
    assert js_hash == hash_token(raw, SECRET)
    assert first["accepted"] is True
    assert to_py(first["invite"]) == kept_dates(dict(stored), shared.backend, shared.schema, "py")
    assert second == {"accepted": False, "expired": False, "invite": None}
    assert (expired["accepted"], expired["expired"]) == (False, True)
    assert shared.py.use_verification_token(old_identifier, hash_token(old_raw, SECRET)) is None


def test_link_issued_by_node_is_consumed_by_python(shared: Shared) -> None:
    """A token issued by @auth/core's send-token logic on the JS adapter (64 hex digits, 24 h) is
    consumed by PeeweeAdapter.use_verification_token with the same hashing, exactly once."""
    identifier = f"js-link-{secrets.token_hex(4)}@example.com"
    before = utcnow()
    issued = shared.js.call("issueMagicLink", {"identifier": identifier, "secret": SECRET})
    raw, stored = issued["token"], to_py(issued["stored"])
    assert re.fullmatch(r"[0-9a-f]{64}", raw)
    assert stored["token"] == hash_token(raw, SECRET)
    assert (
        timedelta(hours=24) - timedelta(seconds=1)
        <= stored["expires"] - before
        <= timedelta(hours=24, seconds=5)
    )

    used = shared.py.use_verification_token(identifier, hash_token(raw, SECRET))
    assert used == kept_dates(stored, shared.backend, shared.schema, "js")
    assert shared.py.use_verification_token(identifier, hash_token(raw, SECRET)) is None
