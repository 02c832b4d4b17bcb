"""The framework-neutral web layer: redirects, the /session body, CSRF tokens, settings."""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta
from datetime import timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from peewee_authjs import PeeweeAdapter
from peewee_authjs.errors import ConfigurationError
from peewee_authjs.web import AuthWeb
from peewee_authjs.web import WebSettings
from peewee_authjs.web import csrf_cookie_name
from peewee_authjs.web import js_iso
from peewee_authjs.web import safe_redirect
from peewee_authjs.web import session_payload

BASE = "https://app.example"


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/dashboard?x=1#top", "/dashboard?x=1#top"),
        ("https://app.example/a", "https://app.example/a"),
        ("HTTPS://APP.EXAMPLE/a", "HTTPS://APP.EXAMPLE/a"),
        ("http://app.example/a", "/"),  # another scheme is another origin
        ("https://app.example:444/a", "/"),
        ("https://app.example.evil/a", "/"),
        ("https://evil@app.example.evil/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example/", "/"),
        ("/ok\r\nSet-Cookie: x=1", "/"),
        ("/caf\ud800", "/"),  # a lone surrogate: no Location header can carry it
        ("javascript:alert(1)", "/"),
        ("data:text/html,hi", "/"),
        ("dashboard", "/"),
        ("", "/"),
        (None, "/"),
    ],
)
def test_safe_redirect(target: str | None, expected: str) -> None:
    """Only paths of this site and URLs of its exact origin are followed; the rest gets the default."""
    assert safe_redirect(target, BASE, "/") == expected


@given(st.text())
def test_safe_redirect_never_leaves_the_origin(target: str) -> None:
    """Whatever the input, the result is the default, a local path, or a URL of the same origin."""
    result = safe_redirect(target, BASE, "/")
    assert (
        result == "/"
        or (result.startswith("/") and not result.startswith("//"))
        or (result.lower().startswith(BASE + "/") or result.lower() == BASE)
    )
    assert "\\" not in result and "\n" not in result
    result.encode("utf-8")  # a lone surrogate never gets through


def test_js_iso_is_javascripts_format() -> None:
    """Datetimes are written as Date.toISOString does: UTC, milliseconds, Z."""
    value = datetime(2024, 5, 6, 9, 8, 9, 123456, tzinfo=timezone(timedelta(hours=2)))
    assert js_iso(value) == "2024-05-06T07:08:09.123Z"


def test_session_payload_shape() -> None:
    """Auth.js's /session body keeps name, email and image only; None without a session."""
    expires = datetime(2030, 1, 1, tzinfo=timezone.utc)
    found = {
        "user": {"id": "u", "name": "Ada", "email": "ada@example.com", "image": None, "secret": "x"},
        "session": {"session_token": "t", "expires": expires},
    }
    assert session_payload(found) == {  # type: ignore[arg-type]
        "user": {"name": "Ada", "email": "ada@example.com", "image": None},
        "expires": "2030-01-01T00:00:00.000Z",
    }
    assert session_payload(None) is None


@pytest.mark.parametrize(
    ("field", "value"),
    [("secret", ""), ("url", "app.example"), ("base_path", "auth"), ("base_path", "/auth/")],
)
def test_settings_are_checked(field: str, value: str) -> None:
    """A missing secret, a relative URL or a malformed base path raise ConfigurationError naming it."""
    values = {"secret": "s", "url": BASE, "base_path": "/auth", field: value}
    with pytest.raises(ConfigurationError) as info:
        WebSettings(**values)  # type: ignore[arg-type]
    assert info.value.setting == field


def test_csrf_cookie_made_by_auth_js_is_accepted(tmp_path: Path) -> None:
    """A CSRF cookie as Auth.js writes it (token%7Chash, same secret) is read as valid; a forged hash is not."""
    web = AuthWeb(PeeweeAdapter(f"sqlite:///{tmp_path / 'a.db'}"), WebSettings(secret="s", url=BASE))
    token = "ab" * 32
    name = csrf_cookie_name(secure=True)
    assert name == "__Host-authjs.csrf-token"
    good = web.begin({name: f"{token}%7C{web.csrf_hash(token)}"}, BASE)
    assert good.csrf_valid(token) and not good.csrf_valid(token.upper()) and not good.csrf_valid(None)
    assert good.csrf_token() == token and good.outgoing == {}
    forged = web.begin({name: f"{token}|{'0' * 64}"}, BASE)
    assert not forged.csrf_valid(token)
    assert forged.csrf_token() != token and name in forged.outgoing  # a new cookie replaces it
    garbage = web.begin({name: "%C3%A9|\u00e9\x00"}, BASE)  # not ASCII: refused, not an error
    assert not garbage.csrf_valid("\u00e9")
