"""The Bottle plugin: the plugin API, every route and its error paths, cookies, CSRF, login_required."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import bottle
import pytest
from werkzeug.test import Client

from peewee_authjs import PeeweeAdapter
from peewee_authjs.bottle_ext import AuthJSPlugin
from peewee_authjs.errors import ConfigurationError
from peewee_authjs.fields import utcnow
from peewee_authjs.web import RequestAuth
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


def make_app(adapter: PeeweeAdapter, outbox: Outbox, **options: Any) -> tuple[bottle.Bottle, AuthJSPlugin]:
    """A Bottle app with the plugin and a few routes of its own."""
    app = bottle.Bottle()
    app.config["catchall"] = False  # errors reach the test
    plugin = AuthJSPlugin(adapter, secret=SECRET, url=options.pop("url", ORIGIN), send=outbox, **options)
    app.install(plugin)

    @app.get("/private")
    @plugin.login_required
    def private(authjs: RequestAuth) -> str:
        return f"hello {authjs.user['email'] if authjs.user else None}"

    @app.post("/private")
    @plugin.login_required
    def private_post() -> str:
        return "posted"

    @app.get("/whoami")
    def whoami() -> dict[str, Any]:
        user = bottle.request.authjs.user
        return {"user": user and user["email"]}

    @app.get("/leave")
    def leave() -> None:
        assert bottle.request.authjs.session_and_user is None  # read the (expired) session, then redirect
        bottle.redirect("/elsewhere")

    @app.post("/protected")
    @plugin.csrf_protect
    def protected() -> str:
        return "done"

    return app, plugin


@pytest.fixture
def adapter(tmp_path: Path) -> PeeweeAdapter:
    """A SQLite adapter with its tables."""
    result = PeeweeAdapter(f"sqlite:///{tmp_path / 'auth.db'}")
    result.create_tables()
    return result


@pytest.fixture
def outbox() -> Outbox:
    """The links the app sent."""
    return Outbox()


@pytest.fixture
def app(adapter: PeeweeAdapter, outbox: Outbox) -> bottle.Bottle:
    """The app under test."""
    return make_app(adapter, outbox)[0]


@pytest.fixture
def client(app: bottle.Bottle) -> Client:
    """A cookie-keeping client of the app."""
    return Client(app)


def sessions_of(adapter: PeeweeAdapter) -> int:
    return count(adapter.database, "sessions")


# -- the plugin API -------------------------------------------------------------------------------


def test_plugin_api_and_conflicts(adapter: PeeweeAdapter, outbox: Outbox) -> None:
    """name and api = 2; installing it twice, a second one, or a plugin with the same keyword is refused."""
    app, plugin = make_app(adapter, outbox)
    assert plugin.name == "authjs" and plugin.api == 2
    with pytest.raises(bottle.PluginError):
        app.install(plugin)
    with pytest.raises(bottle.PluginError):
        app.install(AuthJSPlugin(adapter, secret=SECRET, url=ORIGIN))

    class Other:
        keyword = "authjs"

        def apply(self, callback: Any, route: Any) -> Any:
            return callback

    fresh = bottle.Bottle()
    fresh.install(Other())
    with pytest.raises(bottle.PluginError, match="keyword"):
        fresh.install(AuthJSPlugin(adapter, secret=SECRET, url=ORIGIN))


def test_the_url_is_required(adapter: PeeweeAdapter) -> None:
    """Without url (or trust_host) the plugin refuses to start, naming the setting."""
    with pytest.raises(ConfigurationError) as info:
        AuthJSPlugin(adapter, secret=SECRET)
    assert info.value.setting == "url"
    with pytest.raises(ConfigurationError, match="secret"):
        AuthJSPlugin(adapter, secret="", url=ORIGIN)


def test_routes_can_be_left_unmounted(adapter: PeeweeAdapter, outbox: Outbox) -> None:
    """routes=False installs the per-request state only; the sign-in routes are not there."""
    app, _ = make_app(adapter, outbox, routes=False)
    assert Client(app).get("/auth/session").status_code == 404
    assert Client(app).get("/whoami").get_json() == {"user": None}


# -- the e-mail sign-in flow ----------------------------------------------------------------------


def test_sign_in_end_to_end(client: Client, outbox: Outbox, adapter: PeeweeAdapter) -> None:
    """Form -> link -> confirm page (nothing consumed) -> POST: a session, Auth.js's cookie, the callbackUrl."""
    page = client.get("/auth/signin?callbackUrl=/private")
    assert page.status_code == 200 and "HttpOnly" in set_cookies(page)[CSRF_COOKIE]
    assert form_fields(page)["callbackUrl"] == "/private"
    response = client.post("/auth/signin/email", data={**form_fields(page), "email": "Ada@Example.com"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/auth/verify-request")
    assert client.get("/auth/verify-request").status_code == 200
    path, query = outbox.last_link()
    link = client.get(path, query_string=query)
    assert link.status_code == 200 and sessions_of(adapter) == 0
    done = confirm(client, link)
    assert done.status_code == 303 and done.headers["Location"].endswith("/private")
    line = set_cookies(done)[SESSION_COOKIE]
    attributes = {part.strip().split("=")[0].lower(): part.strip() for part in line.split(";")[1:]}
    assert attributes["httponly"] and attributes["samesite"].lower() == "samesite=lax"
    assert attributes["path"] == "Path=/" and "secure" not in attributes
    assert client.get("/private").get_data(as_text=True) == "hello ada@example.com"
    assert confirm(client, link).status_code == 400  # used


def test_a_bad_or_expired_link_is_refused(client: Client, outbox: Outbox, adapter: PeeweeAdapter) -> None:
    """Another token: 400 on GET and POST; past its expiry: 400 as well; no session either way."""
    request_link(client, outbox)
    path, query = outbox.last_link()
    assert client.get(path, query_string={**query, "token": "1" * 64}).status_code == 400
    page = client.get(path, query_string=query)
    assert client.post(path, data={**form_fields(page), "token": "1" * 64}).status_code == 400
    adapter.database.execute_sql("UPDATE verification_tokens SET expires = '2000-01-01 00:00:00.000 +00:00'")
    assert confirm(client, page).status_code == 400
    assert sessions_of(adapter) == 0


def test_an_invalid_address_is_refused(client: Client, outbox: Outbox, adapter: PeeweeAdapter) -> None:
    """An address with two @: the form again, 400, nothing stored or sent."""
    assert request_link(client, outbox, "a@b@c").status_code == 400
    assert count(adapter.database, "verification_tokens") == 0 and outbox == []


@pytest.mark.parametrize("token", [None, "wrong"])
def test_posts_without_the_csrf_token_are_refused(
    client: Client, outbox: Outbox, adapter: PeeweeAdapter, token: str | None
) -> None:
    """Every POST route answers 403 without the cookie's CSRF token; nothing is written."""
    sign_in(client, outbox)
    request_link(client, outbox, "bob@example.com")
    path, query = outbox.last_link()
    data = {} if token is None else {"csrfToken": token}
    for route, extra in [
        ("/auth/signin/email", {"email": "carol@example.com"}),
        ("/auth/callback/email", {"email": query["email"], "token": query["token"]}),
        ("/auth/signout", {}),
        ("/auth/signout-others", {}),
        ("/protected", {}),
    ]:
        assert client.post(route, data={**data, **extra}).status_code == 403, route
    assert sessions_of(adapter) == 1 and count(adapter.database, "verification_tokens") == 1
    assert client.post("/protected", headers={"X-CSRF-Token": csrf(client)}).get_data(as_text=True) == "done"


# -- the session cookie ---------------------------------------------------------------------------


def test_a_tampered_cookie_is_anonymous_and_cleared(client: Client, outbox: Outbox) -> None:
    """An unknown token reads as nobody and its cookie is cleared."""
    sign_in(client, outbox)
    client.set_cookie(SESSION_COOKIE, "not-a-session")
    response = client.get("/auth/session")
    assert response.get_data(as_text=True) == "null"
    assert is_cleared(set_cookies(response)[SESSION_COOKIE])


def test_an_expired_session_is_deleted_and_cleared_even_on_a_redirect(
    client: Client, outbox: Outbox, adapter: PeeweeAdapter
) -> None:
    """An expired session is deleted and its cookie cleared, also on a raised redirect()."""
    sign_in(client, outbox)
    token = client.get_cookie(SESSION_COOKIE).value  # type: ignore[union-attr]
    adapter.update_session({"session_token": token, "expires": utcnow() - timedelta(seconds=1)})
    response = client.get("/leave")
    assert response.status_code in (302, 303)
    assert is_cleared(set_cookies(response)[SESSION_COOKIE])
    assert sessions_of(adapter) == 0


def test_a_due_session_is_extended_and_its_cookie_reset(
    client: Client, outbox: Outbox, adapter: PeeweeAdapter
) -> None:
    """A read past update_age pushes the expiry to now + max_age, in the table and the cookie."""
    sign_in(client, outbox)
    token = client.get_cookie(SESSION_COOKIE).value  # type: ignore[union-attr]
    old = utcnow() + timedelta(days=28)
    adapter.update_session({"session_token": token, "expires": old})
    response = client.get("/whoami")
    assert response.get_json() == {"user": "ada@example.com"}
    found = adapter.get_session_and_user(token)
    assert found is not None and found["session"]["expires"] > old + timedelta(days=1)
    assert cookie_expires(set_cookies(response)[SESSION_COOKIE]) >= found["session"]["expires"].replace(
        microsecond=0
    )


def test_https_uses_secure_prefixed_cookies(adapter: PeeweeAdapter, outbox: Outbox) -> None:
    """With an https URL: __Host-authjs.csrf-token and __Secure-authjs.session-token, both Secure."""
    app, _ = make_app(adapter, outbox, url="https://localhost")
    client = Client(app)
    page = client.get("/auth/signin", base_url="https://localhost")
    assert "secure" in set_cookies(page)["__Host-authjs.csrf-token"].lower()
    client.post(
        "/auth/signin/email", data={**form_fields(page), "email": "a@b.c"}, base_url="https://localhost"
    )
    link = client.get(outbox[-1][1])
    done = client.post("/auth/callback/email", data=form_fields(link), base_url="https://localhost")
    assert "secure" in set_cookies(done)["__Secure-authjs.session-token"].lower()


# -- sign-out, /session, redirects, login_required ------------------------------------------------


def test_sign_out_and_sign_out_other_devices(
    app: bottle.Bottle, outbox: Outbox, adapter: PeeweeAdapter
) -> None:
    """signout-others keeps this session only; signout ends it and clears the cookie; anonymous is 401."""
    laptop, phone = Client(app), Client(app)
    sign_in(laptop, outbox)
    sign_in(phone, outbox)
    assert laptop.post("/auth/signout-others", data={"csrfToken": csrf(laptop)}).status_code == 303
    assert sessions_of(adapter) == 1
    assert phone.get("/whoami").get_json() == {"user": None}
    assert phone.post("/auth/signout-others", data={"csrfToken": csrf(phone)}).status_code == 401
    page = laptop.get("/auth/signout")
    response = confirm(laptop, page)
    assert response.status_code == 303 and is_cleared(set_cookies(response)[SESSION_COOKIE])
    assert sessions_of(adapter) == 0


def test_session_endpoint_shape(client: Client, outbox: Outbox) -> None:
    """GET /auth/session: null, then exactly {user: {name, email, image}, expires}."""
    assert client.get("/auth/session").get_data(as_text=True) == "null"
    sign_in(client, outbox)
    response = client.get("/auth/session")
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["user"] == {"name": None, "email": "ada@example.com", "image": None}
    assert set(body) == {"user", "expires"} and body["expires"].endswith("Z")


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example", "/\\evil.example"])
def test_no_open_redirect(client: Client, outbox: Outbox, target: str) -> None:
    """A foreign callbackUrl is replaced by the default redirect."""
    assert sign_in(client, outbox, callbackUrl=target).headers["Location"] in ("/", ORIGIN + "/")


def test_login_required(client: Client, outbox: Outbox) -> None:
    """Anonymous: GET goes to the sign-in page with callbackUrl, POST is 401; signed in: the view runs."""
    response = client.get("/private")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/auth/signin?callbackUrl=http%3A%2F%2Flocalhost%2Fprivate")
    assert client.post("/private").status_code == 401
    sign_in(client, outbox)
    assert client.post("/private").get_data(as_text=True) == "posted"


def test_the_connection_is_closed_after_each_request(client: Client, adapter: PeeweeAdapter) -> None:
    """The plugin closes the database connection in finally, after every request."""
    client.set_cookie(SESSION_COOKIE, "00000000-0000-4000-8000-000000000000")
    client.get("/whoami")
    assert adapter.database.is_closed()


def test_trusted_host_and_another_keyword(adapter: PeeweeAdapter, outbox: Outbox) -> None:
    """trust_host=True takes the links' origin from the request; keyword= renames the injected argument."""
    app = bottle.Bottle()
    plugin = AuthJSPlugin(adapter, secret=SECRET, trust_host=True, keyword="auth", send=outbox)
    app.install(plugin)

    @app.get("/who")
    def who(auth: RequestAuth) -> str:
        return str(auth.user["email"] if auth.user else None)

    client = Client(app)
    base = "http://app.test:8000"
    token = client.get("/auth/csrf", base_url=base).get_json()["csrfToken"]
    client.post("/auth/signin/email", data={"email": "a@b.c", "csrfToken": token}, base_url=base)
    assert outbox[-1][1].startswith(base + "/auth/callback/email?")
    path, query = outbox.last_link(base)
    link = client.get(path, query_string=query, base_url=base)
    assert form_fields(link)["callbackUrl"] == base + "/"
    client.post(path, data=form_fields(link), base_url=base)
    assert client.get("/who", base_url=base).get_data(as_text=True) == "a@b.c"


def test_bytes_that_are_not_utf8_are_read_as_flask_reads_them(client: Client, outbox: Outbox) -> None:
    """Query strings and form bodies with invalid UTF-8 never crash a route: the bad bytes read as
    U+FFFD (as Werkzeug decodes them), so the request gets its ordinary answer."""
    assert client.get("/auth/signin?callbackUrl=%ff").status_code == 200
    assert client.get("/auth/callback/email?token=%ff&email=%ff").status_code == 400
    assert client.get("/auth/signout?callbackUrl=/%ff").status_code == 200
    form = "application/x-www-form-urlencoded"
    assert client.post("/auth/signout", data=b"csrfToken=%ff", content_type=form).status_code == 403
    token = csrf(client).encode()
    response = client.post(
        "/auth/signout", data=b"csrfToken=" + token + b"&callbackUrl=%ff", content_type=form
    )
    assert (response.status_code, response.headers["Location"]) == (303, "/")
    response = client.post(
        "/auth/signin/email", data=b"csrfToken=" + token + b"&email=%ff", content_type=form
    )
    assert response.status_code == 400 and not outbox
    part = b'--XX\r\nContent-Disposition: form-data; name="csrfToken"\r\n\r\n%s\r\n--XX--\r\n'
    multipart = "multipart/form-data; boundary=XX"
    assert client.post("/auth/signout", data=part % b"\xff", content_type=multipart).status_code == 403
    assert client.post("/auth/signout", data=part % token, content_type=multipart).status_code == 303


def test_lone_surrogates_in_json_are_wrong_values_not_a_500(client: Client, outbox: Outbox) -> None:
    """JSON bodies may hold lone surrogates: each route answers as for any wrong value, never 500."""
    lone_surrogates_are_wrong_values(client, outbox)


def test_https_reads_only_prefixed_session_cookies(adapter: PeeweeAdapter, outbox: Outbox) -> None:
    """On https an injected unprefixed session cookie signs nobody in; the __Secure- ones do."""
    app, plugin = make_app(adapter, outbox, url="https://localhost")
    token = plugin.sessions.start(adapter.create_user({"email": "ada@example.com"})["id"])["session_token"]
    https_reads_only_prefixed_session_cookies(Client(app), token)


def test_signed_in_responses_vary_on_cookie(client: Client, outbox: Outbox) -> None:
    """Pages read with the session cookie carry Vary: Cookie, as with Flask."""
    signed_in_responses_vary_on_cookie(client, outbox)


def test_trusted_host_ignores_x_forwarded_headers(adapter: PeeweeAdapter, outbox: Outbox) -> None:
    """trust_host=True takes the link's origin from Host, as Flask does, never from the
    X-Forwarded-Host/-Proto a client may send (Bottle's own urlparts prefers them): a proxy
    that sets Host passes those through, and a mailed link would point at the attacker's host."""
    app = bottle.Bottle()
    app.install(AuthJSPlugin(adapter, secret=SECRET, trust_host=True, send=outbox))
    client = Client(app)
    base = "http://app.test:8000"
    forged = {"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"}
    token = client.get("/auth/csrf", base_url=base, headers=forged).get_json()["csrfToken"]
    data = {"email": "victim@example.com", "csrfToken": token}
    response = client.post("/auth/signin/email", data=data, base_url=base, headers=forged)
    assert response.status_code == 303
    assert outbox[-1][1].startswith(base + "/auth/callback/email?")
