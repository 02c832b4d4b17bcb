"""The Flask extension: settings, every route and its error paths, cookies, CSRF, Flask-Login."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urljoin
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask import jsonify
from flask_login import LoginManager
from flask_login import current_user
from flask_login import login_required
from peewee import Database
from werkzeug.test import Client

from peewee_authjs import PeeweeAdapter
from peewee_authjs.email_signin import hash_token
from peewee_authjs.errors import ConfigurationError
from peewee_authjs.fields import utcnow
from peewee_authjs.flask_ext import AuthJS
from peewee_authjs.oauth import handle_oauth_sign_in
from tests.helpers import count
from tests.webflow import CSRF_COOKIE
from tests.webflow import ORIGIN
from tests.webflow import SECRET
from tests.webflow import SESSION_COOKIE
from tests.webflow import Outbox
from tests.webflow import confirm
from tests.webflow import cookie_expires
from tests.webflow import csrf
from tests.webflow import form_fields
from tests.webflow import https_reads_only_prefixed_session_cookies
from tests.webflow import is_cleared
from tests.webflow import lone_surrogates_are_wrong_values
from tests.webflow import request_link
from tests.webflow import set_cookies
from tests.webflow import sign_in
from tests.webflow import signed_in_responses_vary_on_cookie


def make_app(adapter: PeeweeAdapter | None, outbox: Outbox, **config: Any) -> tuple[Flask, AuthJS]:
    """A Flask app with the extension and two views of its own."""
    app = Flask(__name__)
    app.config.update(AUTHJS_SECRET=SECRET, AUTHJS_URL=ORIGIN, TESTING=True)
    app.config.update(config)
    authjs = AuthJS(app, adapter, send=outbox)

    @app.get("/private")
    @login_required
    def private() -> str:
        return f"hello {current_user.email}"

    @app.get("/whoami")
    def whoami() -> Any:
        for _ in range(3):  # read many times: the session is read once
            _ = current_user.is_authenticated, authjs.user, authjs.session
        return jsonify(user=authjs.user and authjs.user["email"])

    @app.post("/protected")
    @authjs.csrf_protect
    def protected() -> str:
        return "done"

    return app, authjs


@pytest.fixture
def adapter(tmp_path: Path) -> PeeweeAdapter:
    """A SQLite adapter with its tables (these tests are about HTTP, not backends)."""
    result = PeeweeAdapter(f"sqlite:///{tmp_path / 'auth.db'}")
    result.create_tables()
    return result


@pytest.fixture
def outbox() -> Outbox:
    """The links the app sent."""
    return Outbox()


@pytest.fixture
def app(adapter: PeeweeAdapter, outbox: Outbox) -> Flask:
    """The app under test."""
    return make_app(adapter, outbox)[0]


@pytest.fixture
def client(app: Flask) -> Client:
    """A cookie-keeping client of the app."""
    return app.test_client()


def sessions_of(adapter: PeeweeAdapter) -> int:
    return count(adapter.database, "sessions")


# -- settings -------------------------------------------------------------------------------------


@pytest.mark.parametrize("missing", ["AUTHJS_SECRET", "AUTHJS_URL"])
def test_a_missing_setting_is_named(adapter: PeeweeAdapter, outbox: Outbox, missing: str) -> None:
    """init_app refuses to start without the secret or the public URL, naming the setting."""
    with pytest.raises(ConfigurationError, match=missing) as info:
        make_app(adapter, outbox, **{missing: None})
    assert info.value.setting == missing


def test_without_adapter_the_database_url_is_required(outbox: Outbox) -> None:
    """With no adapter given, AUTHJS_DATABASE_URL must be set and is named when missing."""
    with pytest.raises(ConfigurationError, match="AUTHJS_DATABASE_URL"):
        make_app(None, outbox)


def test_app_factory_opens_the_database_url(tmp_path: Path, outbox: Outbox) -> None:
    """AuthJS() then init_app(app) in a factory: the adapter comes from AUTHJS_DATABASE_URL."""
    url = f"sqlite:///{tmp_path / 'factory.db'}"
    PeeweeAdapter(url).create_tables()
    authjs = AuthJS(send=outbox)
    app = Flask(__name__)
    app.config.update(AUTHJS_SECRET=SECRET, AUTHJS_URL=ORIGIN, AUTHJS_DATABASE_URL=url)
    authjs.init_app(app)
    client = app.test_client()
    assert sign_in(client, outbox).status_code == 303
    assert client.get("/auth/session").get_json()["user"]["email"] == "ada@example.com"


def test_bad_values_are_named(adapter: PeeweeAdapter, outbox: Outbox) -> None:
    """A malformed URL, base path or age raises ConfigurationError naming its setting."""
    for key, value in [
        ("AUTHJS_URL", "localhost:5000"),
        ("AUTHJS_BASE_PATH", "auth/"),
        ("AUTHJS_SESSION_MAX_AGE", "30 days"),
    ]:
        with pytest.raises(ConfigurationError, match=key):
            make_app(adapter, outbox, **{key: value})


def test_a_foreign_request_loader_is_refused(adapter: PeeweeAdapter, outbox: Outbox) -> None:
    """An app whose LoginManager already has a request_loader gets a clear error, not a silent override."""
    app = Flask(__name__)
    app.config.update(AUTHJS_SECRET=SECRET, AUTHJS_URL=ORIGIN)
    manager = LoginManager(app)
    manager.request_loader(lambda request: None)
    with pytest.raises(ConfigurationError, match="request_loader"):
        AuthJS(app, adapter, send=outbox)


# -- the e-mail sign-in flow ----------------------------------------------------------------------


def test_signin_page_has_a_form_and_sets_the_csrf_cookie(client: Client) -> None:
    """GET /auth/signin shows the e-mail form with a CSRF token matching a new HttpOnly Lax cookie."""
    response = client.get("/auth/signin")
    assert response.status_code == 200
    assert 'name="email"' in response.get_data(as_text=True)
    line = set_cookies(response)[CSRF_COOKIE]
    assert "HttpOnly" in line and "SameSite=Lax" in line and "Path=/" in line and "Secure" not in line
    token = form_fields(response)["csrfToken"]
    assert client.get_cookie(CSRF_COOKIE).value.startswith(token + "|")  # type: ignore[union-attr]
    assert response.headers["Cache-Control"] == "no-store"


def test_sign_in_end_to_end(client: Client, outbox: Outbox, adapter: PeeweeAdapter) -> None:
    """Form -> link -> confirm page -> POST: a verified user, a session, Auth.js's cookie, the callbackUrl."""
    response = request_link(client, outbox, "  Ada@Example.COM ", callbackUrl="/private")
    assert response.status_code == 303 and response.headers["Location"] == "/auth/verify-request"
    assert client.get("/auth/verify-request").status_code == 200
    email, url = outbox[-1]
    assert email == "ada@example.com"
    path, query = outbox.last_link()
    assert path == "/auth/callback/email"
    assert query["email"] == "ada@example.com" and query["callbackUrl"] == "http://localhost/private"
    assert len(query["token"]) == 64
    assert (
        count(adapter.database, "verification_tokens", "token = ?", hash_token(query["token"], SECRET)) == 1
    )

    page = client.get(path, query_string=query)
    assert page.status_code == 200 and page.headers["Referrer-Policy"] == "no-referrer"
    assert sessions_of(adapter) == 0  # the GET consumed nothing
    assert count(adapter.database, "verification_tokens") == 1

    done = confirm(client, page)
    assert done.status_code == 303 and done.headers["Location"] == "http://localhost/private"
    assert count(adapter.database, "verification_tokens") == 0
    line = set_cookies(done)[SESSION_COOKIE]
    assert "HttpOnly" in line and "SameSite=Lax" in line and "Path=/" in line and "Secure" not in line
    session = adapter.get_session_and_user(client.get_cookie(SESSION_COOKIE).value)  # type: ignore[union-attr]
    assert session is not None and session["user"]["email"] == "ada@example.com"
    assert session["user"]["email_verified"] is not None
    assert cookie_expires(line) == session["session"]["expires"].replace(microsecond=0)
    assert client.get("/private").get_data(as_text=True) == "hello ada@example.com"


def test_the_confirm_page_can_be_opened_many_times(
    client: Client, outbox: Outbox, adapter: PeeweeAdapter
) -> None:
    """A mail scanner's GETs do not use the link up; only the POST does, once."""
    request_link(client, outbox)
    path, query = outbox.last_link()
    for _ in range(3):
        assert client.get(path, query_string=query).status_code == 200
    page = client.get(path, query_string=query)
    assert confirm(client, page).status_code == 303
    again = confirm(client, page)
    assert again.status_code == 400 and "invalid" in again.get_data(as_text=True)
    assert client.get(path, query_string=query).status_code == 400
    assert sessions_of(adapter) == 1


@pytest.mark.parametrize(
    "change",
    [{"token": "0" * 64}, {"email": "eve@example.com"}, {"token": ""}, {"email": None}],
)
def test_a_bad_link_is_refused_on_get_and_post(
    client: Client, outbox: Outbox, adapter: PeeweeAdapter, change: dict[str, str | None]
) -> None:
    """A wrong token, another address or a missing token: 400 on GET and on POST, nothing written."""
    request_link(client, outbox)
    path, query = outbox.last_link()
    good = client.get(path, query_string=query)
    bad: dict[str, str] = {k: v for k, v in {**query, **change}.items() if v is not None}
    if "email" in change and change["email"] is None:
        # without an address the token alone identifies the link (Auth.js allows it): still valid
        assert client.get(path, query_string=bad).status_code == 200
        return
    assert client.get(path, query_string=bad).status_code == 400
    fields = {**form_fields(good), **{k: v for k, v in bad.items() if k in ("token", "email")}}
    assert client.post(path, data=fields).status_code == 400
    assert sessions_of(adapter) == 0
    assert count(adapter.database, "verification_tokens") == 1


def test_an_expired_link_is_refused(client: Client, outbox: Outbox, adapter: PeeweeAdapter) -> None:
    """A link past its 24 hours: 400 on GET, 400 on POST, and no session."""
    request_link(client, outbox)
    path, query = outbox.last_link()
    page = client.get(path, query_string=query)
    adapter.database.execute_sql("UPDATE verification_tokens SET expires = '2000-01-01 00:00:00.000 +00:00'")
    assert client.get(path, query_string=query).status_code == 400
    assert confirm(client, page).status_code == 400
    assert sessions_of(adapter) == 0


def test_an_invalid_address_is_refused(client: Client, outbox: Outbox, adapter: PeeweeAdapter) -> None:
    """An address Auth.js's normaliser refuses: the form again with an error, 400, nothing stored or sent."""
    response = request_link(client, outbox, 'a"b@example.com')
    assert response.status_code == 400 and "valid e-mail" in response.get_data(as_text=True)
    assert count(adapter.database, "verification_tokens") == 0 and outbox == []


def test_a_failing_sender_is_a_502_and_forgets_the_token(adapter: PeeweeAdapter) -> None:
    """When the mail cannot be sent (an OSError such as smtplib's), 502 and no token left behind."""

    def broken(email: str, url: str) -> None:
        raise ConnectionRefusedError("smtp down")

    app = Flask(__name__)
    app.config.update(AUTHJS_SECRET=SECRET, AUTHJS_URL=ORIGIN)
    AuthJS(app, adapter, send=broken)
    client = app.test_client()
    response = client.post("/auth/signin/email", data={"email": "a@b.c", "csrfToken": csrf(client)})
    assert response.status_code == 502
    assert count(adapter.database, "verification_tokens") == 0


def test_signing_in_again_ends_the_previous_session(
    client: Client, outbox: Outbox, adapter: PeeweeAdapter
) -> None:
    """A browser that signs in again (same or another user) keeps one session: the old one is ended."""
    sign_in(client, outbox)
    sign_in(client, outbox)
    assert sessions_of(adapter) == 1
    sign_in(client, outbox, "bob@example.com")
    assert sessions_of(adapter) == 1
    assert client.get("/auth/session").get_json()["user"]["email"] == "bob@example.com"


# -- CSRF -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("token", [None, "wrong", "forged-cookie"])
def test_posts_without_the_csrf_token_are_refused(
    client: Client, outbox: Outbox, adapter: PeeweeAdapter, token: str | None
) -> None:
    """Every POST route answers 403 without the cookie's CSRF token, or with a forged cookie; nothing written."""
    sign_in(client, outbox)
    request_link(client, outbox, "bob@example.com")
    path, query = outbox.last_link()
    good = csrf(client)
    if token == "forged-cookie":
        client.set_cookie(CSRF_COOKIE, "f" * 64 + "|" + "0" * 64)
        token = "f" * 64
    data = {} if token is None else {"csrfToken": token}
    before = (sessions_of(adapter), count(adapter.database, "verification_tokens"))
    for route, extra in [
        ("/auth/signin/email", {"email": "carol@example.com"}),
        ("/auth/callback/email", {"email": query["email"], "token": query["token"]}),
        ("/auth/signout", {}),
        ("/auth/signout-others", {}),
        ("/protected", {}),
    ]:
        response = client.post(route, data={**data, **extra})
        assert response.status_code == 403, route
    assert (sessions_of(adapter), count(adapter.database, "verification_tokens")) == before
    assert good != token and outbox[-1][0] == "bob@example.com"


def test_the_csrf_token_may_come_in_a_header_or_json(
    client: Client, outbox: Outbox, adapter: PeeweeAdapter
) -> None:
    """Scripts may send the token as X-CSRF-Token or as csrfToken in a JSON body."""
    sign_in(client, outbox)
    token = csrf(client)
    assert client.post("/protected", headers={"X-CSRF-Token": token}).status_code == 200
    response = client.post("/auth/signout", json={"csrfToken": token})
    assert response.status_code == 303 and sessions_of(adapter) == 0


def test_the_csrf_cookie_is_kept_while_valid(client: Client) -> None:
    """The CSRF cookie is set once and reused by later pages, so several open tabs keep working."""
    first = csrf(client)
    response = client.get("/auth/signin")
    assert CSRF_COOKIE not in set_cookies(response)
    assert form_fields(response)["csrfToken"] == first


# -- the session cookie ---------------------------------------------------------------------------


def test_a_tampered_cookie_is_anonymous_and_cleared(
    client: Client, outbox: Outbox, adapter: PeeweeAdapter
) -> None:
    """A session cookie whose token is unknown reads as nobody and is cleared; the real session is untouched."""
    sign_in(client, outbox)
    value = client.get_cookie(SESSION_COOKIE).value  # type: ignore[union-attr]
    client.set_cookie(SESSION_COOKIE, value[:-1] + ("0" if value[-1] != "0" else "1"))
    response = client.get("/auth/session")
    assert response.get_json() is None
    assert is_cleared(set_cookies(response)[SESSION_COOKIE])
    assert client.get_cookie(SESSION_COOKIE) is None
    assert sessions_of(adapter) == 1


def test_an_expired_session_is_deleted_and_its_cookie_cleared(
    client: Client, outbox: Outbox, adapter: PeeweeAdapter
) -> None:
    """A session past its expiry reads as nobody, its row is deleted and its cookie cleared."""
    sign_in(client, outbox)
    token = client.get_cookie(SESSION_COOKIE).value  # type: ignore[union-attr]
    adapter.update_session({"session_token": token, "expires": utcnow() - timedelta(seconds=1)})
    response = client.get("/private")
    assert response.status_code == 302
    assert is_cleared(set_cookies(response)[SESSION_COOKIE])
    assert sessions_of(adapter) == 0


def test_a_read_extends_a_due_session_and_resets_the_cookie(
    client: Client, outbox: Outbox, adapter: PeeweeAdapter
) -> None:
    """A session last extended more than update_age ago is pushed to now + max_age, in the table and the cookie."""
    sign_in(client, outbox)
    token = client.get_cookie(SESSION_COOKIE).value  # type: ignore[union-attr]
    old = utcnow() + timedelta(days=30) - timedelta(days=1, seconds=5)
    adapter.update_session({"session_token": token, "expires": old})
    response = client.get("/auth/session")
    found = adapter.get_session_and_user(token)
    assert found is not None and found["session"]["expires"] > old + timedelta(days=1)
    assert response.get_json()["expires"].startswith(
        found["session"]["expires"].strftime("%Y-%m-%dT%H:%M:%S.")
    )
    assert cookie_expires(set_cookies(response)[SESSION_COOKIE]) >= found["session"]["expires"].replace(
        microsecond=0
    )


def test_a_fresh_session_is_not_written_but_its_cookie_is_reset(
    client: Client, outbox: Outbox, adapter: PeeweeAdapter
) -> None:
    """Within update_age the row is left alone, yet the cookie is re-set to now + max_age, as Auth.js does."""
    sign_in(client, outbox)
    token = client.get_cookie(SESSION_COOKIE).value  # type: ignore[union-attr]
    earlier = utcnow() + timedelta(days=29, hours=12)
    adapter.update_session({"session_token": token, "expires": earlier})
    response = client.get("/auth/session")
    found = adapter.get_session_and_user(token)
    assert found is not None and found["session"]["expires"] == earlier
    assert cookie_expires(set_cookies(response)[SESSION_COOKIE]) > earlier + timedelta(hours=11)


def test_the_session_is_read_once_per_request(
    client: Client, outbox: Outbox, caplog: pytest.LogCaptureFixture
) -> None:
    """current_user and authjs.user read many times in a view cost one session query."""
    sign_in(client, outbox)
    with caplog.at_level(logging.DEBUG, logger="peewee_authjs.sql"):
        response = client.get("/whoami")
    assert response.get_json() == {"user": "ada@example.com"}
    reads = [r for r in caplog.records if r.name == "peewee_authjs.sql" and '"sessions"' in r.getMessage()]
    assert len(reads) == 1, [r.getMessage() for r in reads]


def test_requests_without_auth_read_nothing(
    client: Client, outbox: Outbox, caplog: pytest.LogCaptureFixture
) -> None:
    """A request that never asks for the user sends no query and sets no cookie."""
    sign_in(client, outbox)
    with caplog.at_level(logging.DEBUG, logger="peewee_authjs.sql"):
        response = client.get("/auth/verify-request")
    assert [r for r in caplog.records if r.name == "peewee_authjs.sql"] == []
    assert set_cookies(response) == {}


def test_https_uses_secure_prefixed_cookies(adapter: PeeweeAdapter, outbox: Outbox) -> None:
    """On an https URL the cookies are __Secure-authjs.session-token and __Host-authjs.csrf-token, Secure."""
    app, _ = make_app(adapter, outbox, AUTHJS_URL="https://localhost")
    client = app.test_client()
    page = client.get("/auth/signin", base_url="https://localhost")
    assert "Secure" in set_cookies(page)["__Host-authjs.csrf-token"]
    token = form_fields(page)["csrfToken"]
    client.post(
        "/auth/signin/email", data={"email": "a@b.c", "csrfToken": token}, base_url="https://localhost"
    )
    url = outbox[-1][1]
    assert url.startswith("https://localhost/auth/callback/email?")
    link = client.get(url)
    done = client.post("/auth/callback/email", data=form_fields(link), base_url="https://localhost")
    line = set_cookies(done)["__Secure-authjs.session-token"]
    assert "Secure" in line and "HttpOnly" in line
    assert client.get("/auth/session", base_url="https://localhost").get_json()["user"]["email"] == "a@b.c"


def test_a_next_auth_v4_cookie_is_read(client: Client, outbox: Outbox) -> None:
    """A session in next-auth v4's cookie (next-auth.session-token) signs the request in too."""
    sign_in(client, outbox)
    token = client.get_cookie(SESSION_COOKIE).value  # type: ignore[union-attr]
    client.delete_cookie(SESSION_COOKIE)
    client.set_cookie("next-auth.session-token", token)
    assert client.get("/private").status_code == 200


def test_v4_names_can_be_written(adapter: PeeweeAdapter, outbox: Outbox) -> None:
    """AUTHJS_V4_COOKIES = True writes next-auth.session-token."""
    app, _ = make_app(adapter, outbox, AUTHJS_V4_COOKIES=True)
    done = sign_in(app.test_client(), outbox)
    assert "next-auth.session-token" in set_cookies(done)


# -- sign-out -------------------------------------------------------------------------------------


def test_sign_out(client: Client, outbox: Outbox, adapter: PeeweeAdapter) -> None:
    """GET /auth/signout asks; POST ends the session, clears the cookie, redirects; again is harmless."""
    sign_in(client, outbox)
    page = client.get("/auth/signout?callbackUrl=/bye")
    assert page.status_code == 200 and sessions_of(adapter) == 1
    response = confirm(client, page)
    assert response.status_code == 303 and response.headers["Location"] == "/bye"
    assert is_cleared(set_cookies(response)[SESSION_COOKIE])
    assert sessions_of(adapter) == 0
    assert client.get("/private").status_code == 302
    assert confirm(client, client.get("/auth/signout")).status_code == 303


def test_sign_out_other_devices(app: Flask, outbox: Outbox, adapter: PeeweeAdapter) -> None:
    """POST /auth/signout-others ends the user's other sessions only; other users keep theirs."""
    laptop, phone, tablet, bob = (app.test_client() for _ in range(4))
    for device in (laptop, phone, tablet):
        sign_in(device, outbox)
    sign_in(bob, outbox, "bob@example.com")
    assert sessions_of(adapter) == 4
    response = laptop.post("/auth/signout-others", data={"csrfToken": csrf(laptop), "callbackUrl": "/"})
    assert response.status_code == 303
    assert sessions_of(adapter) == 2
    assert laptop.get("/private").status_code == 200
    assert phone.get("/private").status_code == 302 and tablet.get("/private").status_code == 302
    assert bob.get("/private").status_code == 200


def test_sign_out_other_devices_needs_a_session(client: Client) -> None:
    """POST /auth/signout-others without a session: 401."""
    response = client.post("/auth/signout-others", data={"csrfToken": csrf(client)})
    assert response.status_code == 401


# -- /auth/session and redirects ------------------------------------------------------------------


def test_session_endpoint_shape(client: Client, outbox: Outbox) -> None:
    """GET /auth/session: null when anonymous, else Auth.js's {user: {name, email, image}, expires} exactly."""
    anonymous = client.get("/auth/session")
    assert anonymous.status_code == 200 and anonymous.mimetype == "application/json"
    assert anonymous.get_data(as_text=True) == "null"
    sign_in(client, outbox)
    body = client.get("/auth/session").get_json()
    assert set(body) == {"user", "expires"}
    assert body["user"] == {"name": None, "email": "ada@example.com", "image": None}
    assert body["expires"].endswith("Z") and len(body["expires"]) == len("2024-05-06T07:08:09.123Z")


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("https://evil.example/phish", None),
        ("//evil.example/phish", None),
        ("/\\evil.example", None),
        ("javascript:alert(1)", None),
        ("http://localhost.evil.example/", None),
        ("http://localhost/account?tab=1", "/account?tab=1"),
        ("/account", "/account"),
    ],
)
def test_no_open_redirect(client: Client, outbox: Outbox, target: str, expected: str | None) -> None:
    """callbackUrl is followed only within this origin (a path, or an absolute URL of the origin);
    anything else lands on this site, never on another host."""
    signed_in = sign_in(client, outbox, callbackUrl=target).headers["Location"]
    signed_out = client.post("/auth/signout", data={"csrfToken": csrf(client), "callbackUrl": target})
    for location in (signed_in, signed_out.headers["Location"]):
        absolute = urlsplit(urljoin(ORIGIN + "/", location))
        assert (absolute.scheme, absolute.netloc) == ("http", "localhost"), location
        if expected is not None:
            assert location in (expected, ORIGIN + expected)


def test_login_required_redirects_to_the_signin_page(client: Client, outbox: Outbox) -> None:
    """Anonymous requests to a login_required view go to the sign-in page, which keeps where to return."""
    response = client.get("/private")
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("/auth/signin?next=")
    page = client.get(location)
    assert form_fields(page)["callbackUrl"] in ("/private", "http://localhost/private")
    done = sign_in(client, outbox, callbackUrl=form_fields(page)["callbackUrl"])
    assert done.headers["Location"].endswith("/private")


def test_login_required_is_401_with_the_apps_own_manager(adapter: PeeweeAdapter, outbox: Outbox) -> None:
    """An app that brings its own LoginManager without a login_view gets Flask-Login's 401."""
    app = Flask(__name__)
    app.config.update(AUTHJS_SECRET=SECRET, AUTHJS_URL=ORIGIN)
    LoginManager(app)
    AuthJS(app, adapter, send=outbox)

    @app.get("/private")
    @login_required
    def private() -> str:
        return "secret"

    client = app.test_client()
    assert client.get("/private").status_code == 401
    sign_in(client, outbox)
    assert client.get("/private").get_data(as_text=True) == "secret"


def test_base_path_and_trusted_host(adapter: PeeweeAdapter, outbox: Outbox) -> None:
    """AUTHJS_BASE_PATH moves the routes; AUTHJS_TRUST_HOST takes the links' origin from the request."""
    app, _ = make_app(adapter, outbox, AUTHJS_URL=None, AUTHJS_TRUST_HOST=True, AUTHJS_BASE_PATH="/api/auth")
    client = app.test_client()
    token = client.get("/api/auth/csrf", base_url="http://app.test:8000").get_json()["csrfToken"]
    response = client.post(
        "/api/auth/signin/email", data={"email": "a@b.c", "csrfToken": token}, base_url="http://app.test:8000"
    )
    assert response.headers["Location"] == "/api/auth/verify-request"
    path, query = outbox.last_link("http://app.test:8000")
    assert path == "/api/auth/callback/email"
    link = client.get(path, query_string=query, base_url="http://app.test:8000")
    done = client.post(path, data=form_fields(link), base_url="http://app.test:8000")
    assert done.headers["Location"] == "http://app.test:8000/"
    assert (
        client.get("/api/auth/session", base_url="http://app.test:8000").get_json()["user"]["email"]
        == "a@b.c"
    )
    assert client.get("/auth/session").status_code == 404


def test_the_connection_is_closed_after_each_request(client: Client, adapter: PeeweeAdapter) -> None:
    """AUTHJS_CLOSE_CONNECTIONS (default): the database connection is closed when the request ends."""
    client.get("/auth/session")
    adapter.database.connect(reuse_if_open=True)
    client.set_cookie(SESSION_COOKIE, "00000000-0000-4000-8000-000000000000")
    client.get("/auth/session")
    assert adapter.database.is_closed()


def test_the_whole_flow_on_every_backend(database: Database, outbox: Outbox) -> None:
    """Sign-in, session read and extension, sign-out other devices and sign-out on each configured backend,
    with the connection closed after every request."""
    adapter = PeeweeAdapter(database)
    adapter.create_tables()
    app, _ = make_app(adapter, outbox)
    laptop, phone = app.test_client(), app.test_client()
    sign_in(laptop, outbox)
    sign_in(phone, outbox)
    assert database.is_closed()
    token = laptop.get_cookie(SESSION_COOKIE).value  # type: ignore[union-attr]
    adapter.update_session({"session_token": token, "expires": utcnow() + timedelta(days=2)})
    assert laptop.get("/auth/session").get_json()["user"]["email"] == "ada@example.com"
    found = adapter.get_session_and_user(token)
    assert found is not None and found["session"]["expires"] > utcnow() + timedelta(days=29)
    assert laptop.post("/auth/signout-others", data={"csrfToken": csrf(laptop)}).status_code == 303
    assert phone.get("/private").status_code == 302
    assert laptop.post("/auth/signout", data={"csrfToken": csrf(laptop)}).status_code == 303
    assert sessions_of(adapter) == 0


def test_a_session_started_elsewhere_sets_the_cookie(adapter: PeeweeAdapter, outbox: Outbox) -> None:
    """An OAuth callback view signs in with handle_oauth_sign_in and authjs.current.signed_in: the
    response carries the session cookie, and the next request is signed in."""
    app, authjs = make_app(adapter, outbox)

    @app.get("/oauth/callback")
    def oauth_callback() -> str:
        result = handle_oauth_sign_in(
            adapter,
            authjs.sessions,
            profile={"id": "42", "name": "Ada", "email": "ada@example.com"},
            account={"provider": "example", "type": "oidc", "provider_account_id": "42"},
            session_token=authjs.current.session_token,
        )
        assert result.session is not None
        authjs.current.signed_in(result.user, result.session)
        return "ok"

    client = app.test_client()
    response = client.get("/oauth/callback")
    assert SESSION_COOKIE in set_cookies(response)
    assert client.get("/private").get_data(as_text=True) == "hello ada@example.com"
    assert client.get("/oauth/callback").status_code == 200  # signed in already: same user, no error
    assert sessions_of(adapter) == 1


@pytest.mark.parametrize(
    "value", ["x" * 3000, "\u00e9t\u00e9", "' OR 1=1 --", "00000000-0000-4000-8000-000000000000"]
)
def test_any_cookie_value_is_anonymous_not_an_error(client: Client, value: str) -> None:
    """Oversized, non-ASCII, SQL-looking or unknown session cookies read as nobody and are cleared."""
    client.set_cookie(SESSION_COOKIE, value)
    response = client.get("/auth/session")
    assert response.status_code == 200 and response.get_json() is None
    assert is_cleared(set_cookies(response)[SESSION_COOKIE])


def test_lone_surrogates_in_json_are_wrong_values_not_a_500(client: Client, outbox: Outbox) -> None:
    """JSON bodies may hold lone surrogates: each route answers as for any wrong value, never 500."""
    lone_surrogates_are_wrong_values(client, outbox)


def test_https_reads_only_prefixed_session_cookies(adapter: PeeweeAdapter, outbox: Outbox) -> None:
    """On https an injected unprefixed session cookie signs nobody in; the __Secure- ones do."""
    app, authjs = make_app(adapter, outbox, AUTHJS_URL="https://localhost")
    user = adapter.create_user({"email": "ada@example.com"})
    with app.app_context():
        token = authjs.sessions.start(user["id"])["session_token"]
    https_reads_only_prefixed_session_cookies(app.test_client(), token)


@pytest.mark.parametrize("value", ["user-id|digest", "stale"])
def test_a_flask_login_remember_cookie_neither_hides_the_session_nor_crashes(
    client: Client, outbox: Outbox, value: str
) -> None:
    """Flask-Login reads its remember-me cookie (``remember_token``, e.g. left by another app on
    the host) instead of calling the request loader, and decoding it needs a SECRET_KEY, which
    AuthJS does not: with the manager AuthJS makes, the cookie changes nothing, never a 500."""
    client.set_cookie("remember_token", value)
    assert client.get("/private").status_code == 302
    sign_in(client, outbox)
    assert client.get("/private").get_data(as_text=True) == "hello ada@example.com"


def test_signed_in_responses_vary_on_cookie(client: Client, outbox: Outbox) -> None:
    """Pages read with the session cookie carry Vary: Cookie."""
    signed_in_responses_vary_on_cookie(client, outbox)
