"""Authlib's Flask client wired to the OAuth sign-in rules, against a fake provider on loopback.

The provider below is a test double (authorize, token, userinfo, OIDC discovery and JWKS over
real HTTP on 127.0.0.1); the client side is Authlib's own ``flask_client.OAuth``, wired exactly
as ``docs/oauth.md`` shows. The protocol (state, PKCE, nonce, id_token signature) is Authlib's;
what the result means for the database is :func:`peewee_authjs.oauth.handle_oauth_sign_in`.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from urllib.parse import parse_qs
from urllib.parse import urlencode
from urllib.parse import urlsplit

import pytest
import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.flask_client import OAuth
from flask import Flask
from flask import Response
from flask import jsonify
from flask import redirect
from flask import request
from flask import url_for
from flask.testing import FlaskClient
from joserfc import jwt
from joserfc.jwk import ECKey
from werkzeug.serving import make_server

from peewee_authjs import PeeweeAdapter
from peewee_authjs.errors import OAuthAccountNotLinkedError
from peewee_authjs.oauth import account_from_token
from peewee_authjs.oauth import handle_oauth_sign_in
from peewee_authjs.oauth import profile_from_userinfo
from peewee_authjs.sessions import SessionManager
from peewee_authjs.sessions import find_session_token
from tests.helpers import count
from tests.helpers import rows

CLIENT_ID = "peewee-authjs-test"
CLIENT_SECRET = "client-secret-for-tests"

# -- the fake provider -----------------------------------------------------------------------


@dataclass
class FakeProvider:
    """An OAuth 2 / OIDC provider double: one user, codes and tokens in memory, PKCE checked."""

    issuer: str = ""
    user: dict[str, Any] = field(default_factory=dict)
    key: ECKey = field(default_factory=lambda: ECKey.generate_key("P-256", {"kid": "k1"}))
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    tokens: dict[str, dict[str, Any]] = field(default_factory=dict)
    token_requests: list[dict[str, str]] = field(default_factory=list)

    def app(self) -> Flask:
        app = Flask("fake_provider")

        @app.get("/.well-known/openid-configuration")
        def discovery() -> Response:
            return jsonify(
                issuer=self.issuer,
                authorization_endpoint=f"{self.issuer}/authorize",
                token_endpoint=f"{self.issuer}/token",
                userinfo_endpoint=f"{self.issuer}/userinfo",
                jwks_uri=f"{self.issuer}/jwks",
                id_token_signing_alg_values_supported=["ES256"],
                code_challenge_methods_supported=["S256"],
                response_types_supported=["code"],
            )

        @app.get("/jwks")
        def jwks() -> Response:
            return jsonify(keys=[self.key.as_dict(private=False)])

        @app.get("/authorize")
        def authorize() -> Any:
            args = request.args
            if args.get("client_id") != CLIENT_ID or args.get("response_type") != "code":
                return Response("bad client or response_type", 400)
            code = secrets.token_urlsafe(16)
            self.codes[code] = dict(args)
            query = urlencode({"code": code, "state": args["state"]})
            return redirect(f"{args['redirect_uri']}?{query}")

        @app.post("/token")
        def token() -> Any:
            form = request.form.to_dict()
            self.token_requests.append(form)
            basic = request.authorization
            client_ok = (basic and (basic.username, basic.password) == (CLIENT_ID, CLIENT_SECRET)) or (
                form.get("client_id"),
                form.get("client_secret"),
            ) == (CLIENT_ID, CLIENT_SECRET)
            grant = self.codes.pop(form.get("code", ""), None)
            if not client_ok or grant is None or form.get("redirect_uri") != grant["redirect_uri"]:
                return jsonify(error="invalid_grant"), 400
            verifier = form.get("code_verifier", "")
            challenge = (
                base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            )
            if grant.get("code_challenge") and challenge != grant["code_challenge"]:
                return jsonify(error="invalid_grant", error_description="PKCE"), 400
            access = secrets.token_urlsafe(24)
            self.tokens[access] = self.user
            body: dict[str, Any] = {
                "access_token": access,
                "token_type": "Bearer",
                "expires_in": 3600,
                "refresh_token": secrets.token_urlsafe(24),
                "scope": grant.get("scope", ""),
            }
            if "openid" in grant.get("scope", "").split():
                now = int(time.time())
                claims = {
                    "iss": self.issuer,
                    "aud": CLIENT_ID,
                    "iat": now,
                    "exp": now + 600,
                    "nonce": grant.get("nonce"),
                    **self.user,
                }
                body["id_token"] = jwt.encode({"alg": "ES256", "kid": "k1"}, claims, self.key)
            return jsonify(body)

        @app.get("/userinfo")
        def userinfo() -> Any:
            header = request.headers.get("Authorization", "")
            user = self.tokens.get(header.removeprefix("Bearer "))
            if user is None:
                return jsonify(error="invalid_token"), 401
            return jsonify(user)

        return app


@pytest.fixture
def provider() -> Iterator[FakeProvider]:
    """The fake provider, served by a real HTTP server on a free loopback port."""
    fake = FakeProvider(
        user={"sub": "sub-ada", "name": "Ada", "email": "Ada@Example.com", "picture": "https://p/a"}
    )
    server = make_server("127.0.0.1", 0, fake.app(), threaded=True)
    fake.issuer = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


# -- the app: Authlib's Flask client + the sign-in rules (the wiring of docs/oauth.md) --------


def create_app(adapter: PeeweeAdapter, sessions: SessionManager, issuer: str, *, oidc: bool) -> Flask:
    app = Flask("client_app")
    app.secret_key = "flask-session-secret-for-authlib-state"
    oauth = OAuth(app)
    if oidc:
        oauth.register(
            "fake",
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            server_metadata_url=f"{issuer}/.well-known/openid-configuration",
            client_kwargs={"scope": "openid email profile", "code_challenge_method": "S256"},
        )
    else:  # a plain OAuth 2 provider (GitHub-like): endpoints given, profile from userinfo
        oauth.register(
            "fake",
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            authorize_url=f"{issuer}/authorize",
            access_token_url=f"{issuer}/token",
            userinfo_endpoint=f"{issuer}/userinfo",
            client_kwargs={"scope": "user:email", "code_challenge_method": "S256"},
        )

    @app.get("/auth/signin/fake")
    def signin() -> Any:
        return oauth.fake.authorize_redirect(url_for("callback", _external=True))

    @app.get("/auth/callback/fake")
    def callback() -> Any:
        token = (
            oauth.fake.authorize_access_token()
        )  # checks state, sends the PKCE verifier, checks the id_token
        userinfo = token.get("userinfo") or oauth.fake.userinfo(token=token)
        profile = profile_from_userinfo(userinfo)
        account = account_from_token(
            provider="fake", type="oidc" if oidc else "oauth", provider_account_id=profile["id"], token=token
        )
        try:
            result = handle_oauth_sign_in(
                adapter,
                sessions,
                profile=profile,
                account=account,
                session_token=find_session_token(request.cookies, secure=request.is_secure),
            )
        except OAuthAccountNotLinkedError:
            return redirect("/auth/error?error=OAuthAccountNotLinked")
        response = redirect("/")
        assert result.session is not None
        cookie = sessions.cookie(result.session, secure=request.is_secure)
        response.set_cookie(cookie.name, cookie.value, **cookie.set_cookie_options())
        return response

    @app.errorhandler(OAuthError)
    def oauth_error(error: OAuthError) -> Any:
        return Response(f"sign-in failed: {error.error}", 400)

    @app.get("/me")
    def me() -> Any:
        found = sessions.read(find_session_token(request.cookies, secure=request.is_secure))
        return jsonify(
            None if found is None else {"id": found["user"]["id"], "email": found["user"]["email"]}
        )

    return app


def sign_in_through(client: FlaskClient, provider: FakeProvider, tamper_state: bool = False) -> Any:
    """Follow the redirect dance: app -> provider (real HTTP) -> app callback."""
    start = client.get("/auth/signin/fake")
    assert start.status_code == 302
    location = start.headers["Location"]
    assert location.startswith(provider.issuer + "/authorize?")
    sent = parse_qs(urlsplit(location).query)
    assert sent["code_challenge_method"] == ["S256"] and sent["state"][0]
    back = requests.get(location, allow_redirects=False, timeout=10)
    assert back.status_code == 302
    callback = urlsplit(back.headers["Location"])
    query = callback.query
    if tamper_state:
        query = query.replace("state=", "state=x")
    return client.get(f"{callback.path}?{query}")


@pytest.fixture
def backend() -> str:
    """SQLite only: this file tests the protocol wiring; the rules run on every backend in test_oauth.py."""
    return "sqlite"


@pytest.fixture
def sessions(adapter: PeeweeAdapter) -> SessionManager:
    return SessionManager(adapter)


def test_oidc_sign_in_creates_user_account_and_cookie(
    adapter: PeeweeAdapter, sessions: SessionManager, provider: FakeProvider
) -> None:
    """Through Authlib (discovery, state, PKCE, nonce, ES256 id_token): a new user from the id_token's
    claims, an oidc account keyed by sub with Authlib's tokens, and Auth.js's session cookie."""
    client = create_app(adapter, sessions, provider.issuer, oidc=True).test_client()
    done = sign_in_through(client, provider)
    assert done.status_code == 302 and done.headers["Location"] == "/"
    assert provider.token_requests[0]["code_verifier"]  # Authlib sent the PKCE verifier
    cookie_header = done.headers["Set-Cookie"]
    assert cookie_header.startswith("authjs.session-token=")
    assert "HttpOnly" in cookie_header and "SameSite=Lax" in cookie_header and "Path=/" in cookie_header
    user = adapter.get_user_by_account("fake", "sub-ada")
    assert user is not None and user["email"] == "ada@example.com" and user["name"] == "Ada"
    assert user["image"] == "https://p/a" and user["email_verified"] is None
    account = rows(
        adapter.database, "SELECT type, access_token, id_token, refresh_token, expires_at FROM accounts"
    )[0]
    assert (
        account["type"] == "oidc"
        and account["id_token"]
        and account["access_token"]
        and account["refresh_token"]
    )
    assert abs(account["expires_at"] - (int(time.time()) + 3600)) < 60
    assert client.get("/me").get_json() == {"id": user["id"], "email": "ada@example.com"}


def test_plain_oauth2_sign_in_uses_userinfo(
    adapter: PeeweeAdapter, sessions: SessionManager, provider: FakeProvider
) -> None:
    """Without openid, the profile comes from the userinfo endpoint; a numeric id becomes the
    account's provider_account_id as a string."""
    provider.user = {"id": 12345, "login": "ada", "name": None, "email": "ada@example.com"}
    client = create_app(adapter, sessions, provider.issuer, oidc=False).test_client()
    assert sign_in_through(client, provider).status_code == 302
    user = adapter.get_user_by_account("fake", "12345")
    assert user is not None and user["email"] == "ada@example.com"
    assert rows(adapter.database, "SELECT type, id_token FROM accounts") == [
        {"type": "oauth", "id_token": None}
    ]
    assert client.get("/me").get_json()["id"] == user["id"]


def test_second_sign_in_reuses_the_user(
    adapter: PeeweeAdapter, sessions: SessionManager, provider: FakeProvider
) -> None:
    """Signing in again from another browser finds the linked account: same user, a second session."""
    app = create_app(adapter, sessions, provider.issuer, oidc=True)
    sign_in_through(app.test_client(), provider)
    other_browser = app.test_client()
    sign_in_through(other_browser, provider)
    assert count(adapter.database, "users") == 1 and count(adapter.database, "accounts") == 1
    assert count(adapter.database, "sessions") == 2


def test_signed_in_user_links_a_second_account(
    adapter: PeeweeAdapter, sessions: SessionManager, provider: FakeProvider
) -> None:
    """With a session cookie, a different provider identity is linked to the signed-in user."""
    client = create_app(adapter, sessions, provider.issuer, oidc=True).test_client()
    sign_in_through(client, provider)
    me = client.get("/me").get_json()
    provider.user = {"sub": "sub-work", "email": "ada@work.example"}
    sign_in_through(client, provider)
    assert adapter.get_user_by_account("fake", "sub-work")["id"] == me["id"]  # type: ignore[index]
    assert count(adapter.database, "users") == 1


def test_tampered_state_is_refused_and_writes_nothing(
    adapter: PeeweeAdapter, sessions: SessionManager, provider: FakeProvider
) -> None:
    """A callback whose state is not the one Authlib stored (CSRF) is refused before any token exchange."""
    client = create_app(adapter, sessions, provider.issuer, oidc=True).test_client()
    response = sign_in_through(client, provider, tamper_state=True)
    assert response.status_code == 400 and b"mismatching_state" in response.data
    assert provider.token_requests == []
    assert count(adapter.database, "users") == 0 and count(adapter.database, "sessions") == 0


def test_email_of_another_user_redirects_to_the_error_page(
    adapter: PeeweeAdapter, sessions: SessionManager, provider: FakeProvider
) -> None:
    """An account whose e-mail belongs to an existing user ends on Auth.js's OAuthAccountNotLinked error."""
    adapter.create_user({"email": "ada@example.com"})
    client = create_app(adapter, sessions, provider.issuer, oidc=True).test_client()
    response = sign_in_through(client, provider)
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/error?error=OAuthAccountNotLinked"
    assert count(adapter.database, "accounts") == 0 and count(adapter.database, "sessions") == 0
