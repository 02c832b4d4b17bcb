"""Browser-like steps through the sign-in routes, for any WSGI app (Flask, Bottle, the demo).

They drive a :class:`werkzeug.test.Client`, which keeps cookies as a browser does.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from datetime import timezone
from email.utils import parsedate_to_datetime
from urllib.parse import parse_qs
from urllib.parse import urlsplit

from werkzeug.test import Client
from werkzeug.test import TestResponse

SECRET = "test-secret-of-a-decent-length-0123456789"
ORIGIN = "http://localhost"
SESSION_COOKIE = "authjs.session-token"
CSRF_COOKIE = "authjs.csrf-token"


class Outbox(list[tuple[str, str]]):
    """A link sender that keeps what it was asked to send: ``(email, url)`` pairs."""

    def __call__(self, email: str, url: str) -> None:
        self.append((email, url))

    def last_link(self, origin: str = ORIGIN) -> tuple[str, dict[str, str]]:
        """The path and the query parameters of the last link sent (which must point at ``origin``)."""
        url = self[-1][1]
        parts = urlsplit(url)
        assert f"{parts.scheme}://{parts.netloc}" == origin, url
        return parts.path, {key: values[0] for key, values in parse_qs(parts.query).items()}


def csrf(client: Client, base: str = "/auth") -> str:
    """The CSRF token of the client's CSRF cookie (set by ``GET {base}/csrf`` if it has none)."""
    response = client.get(f"{base}/csrf")
    assert response.status_code == 200
    token = response.get_json()["csrfToken"]
    assert isinstance(token, str) and len(token) == 64
    return token


def request_link(
    client: Client, outbox: Outbox, email: str = "ada@example.com", **extra: str
) -> TestResponse:
    """POST the sign-in form; the response (303 to the verify-request page on success)."""
    return client.post("/auth/signin/email", data={"email": email, "csrfToken": csrf(client), **extra})


def sign_in(client: Client, outbox: Outbox, email: str = "ada@example.com", **extra: str) -> TestResponse:
    """Request a link, open it, confirm: the response of the confirming POST (303 on success)."""
    response = request_link(client, outbox, email, **extra)
    assert response.status_code == 303, response.get_data(as_text=True)
    path, query = outbox.last_link()
    page = client.get(path, query_string=query)
    assert page.status_code == 200, page.get_data(as_text=True)
    return confirm(client, page)


def form_fields(page: TestResponse) -> dict[str, str]:
    """The hidden fields of the (first) form on an HTML page."""
    html = page.get_data(as_text=True)
    return {
        name: value.replace("&amp;", "&")
        for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html)
    }


def confirm(client: Client, page: TestResponse) -> TestResponse:
    """Press the button of a confirm page: POST its form as a browser would."""
    html = page.get_data(as_text=True)
    action = re.search(r'<form method="post" action="([^"]+)"', html)
    assert action is not None, html
    return client.post(action.group(1), data=form_fields(page))


def set_cookies(response: TestResponse) -> dict[str, str]:
    """The Set-Cookie headers of a response, by cookie name (the whole header line)."""
    return {line.split("=", 1)[0]: line for line in response.headers.getlist("Set-Cookie")}


def cookie_expires(line: str) -> datetime:
    """The ``Expires`` of a Set-Cookie line, as an aware datetime."""
    match = re.search(r"Expires=([^;]+)", line, re.I)
    assert match is not None, line
    return parsedate_to_datetime(match.group(1)).astimezone(timezone.utc)


def is_cleared(line: str) -> bool:
    """Whether a Set-Cookie line deletes its cookie (empty value, expired in the past)."""
    value = line.split(";", 1)[0].split("=", 1)[1]
    return value in ("", '""') and cookie_expires(line).year == 1970


def post_json(client: Client, route: str, **fields: str) -> TestResponse:
    """POST ``fields`` as a JSON body, written with ``\\uXXXX`` escapes (so lone surrogates go through)."""
    return client.post(route, data=json.dumps(fields, ensure_ascii=True), content_type="application/json")


def lone_surrogates_are_wrong_values(client: Client, outbox: Outbox) -> None:
    """A CSRF token, link token or callbackUrl holding a lone surrogate (JSON can carry one, UTF-8
    cannot encode it) is refused or ignored as any wrong value is: 403, 400, the default redirect."""
    lone = "\ud800"
    sign_in(client, outbox)
    request_link(client, outbox, "bob@example.com")
    good = csrf(client)
    assert post_json(client, "/auth/signout", csrfToken=lone).status_code == 403
    assert post_json(client, "/protected", csrfToken=good + lone).status_code == 403
    assert post_json(client, "/auth/callback/email", csrfToken=good, token=lone).status_code == 400
    response = post_json(client, "/auth/callback/email", csrfToken=good, token=lone, email="bob@example.com")
    assert response.status_code == 400
    response = post_json(
        client, "/auth/signin/email", csrfToken=good, email="carol@example.com", callbackUrl="/" + lone
    )
    assert response.status_code == 303 and outbox.last_link()[1]["callbackUrl"] == ORIGIN + "/"
    response = post_json(client, "/auth/signout", csrfToken=good, callbackUrl="/" + lone)
    assert response.status_code == 303 and response.headers["Location"] in ("/", ORIGIN + "/")


def https_reads_only_prefixed_session_cookies(client: Client, token: str) -> None:
    """On an https site (``client``'s app configured for ``https://localhost``) the session
    ``token`` signs the request in from ``__Secure-`` cookies only: an unprefixed cookie can be
    set by a plain-http response or a sibling subdomain (cookie injection, session fixation)."""
    https = "https://localhost"
    for name, read in [
        ("authjs.session-token", False),
        ("next-auth.session-token", False),
        ("__Secure-authjs.session-token", True),
        ("__Secure-next-auth.session-token", True),
    ]:
        client.set_cookie(name, token, secure=name.startswith("__Secure-"))
        body = client.get("/auth/session", base_url=https).get_json()
        assert (body is not None) is read, name
        client.delete_cookie(name)


def signed_in_responses_vary_on_cookie(client: Client, outbox: Outbox) -> None:
    """A response that read the session cookie (and re-sets it) says ``Vary: Cookie``, so that no
    shared cache hands one user's page, or their session cookie, to another."""
    sign_in(client, outbox)
    for path in ("/whoami", "/auth/session"):
        response = client.get(path)
        assert SESSION_COOKIE in set_cookies(response), path
        assert "cookie" in response.headers.get("Vary", "").lower(), path
