"""The HTTP side of sign-in, framework-neutral: what :mod:`peewee_authjs.flask_ext` and
:mod:`peewee_authjs.bottle_ext` share.

Both integrations turn a request into a :class:`WebRequest`, call one handler of
:class:`AuthWeb` (the table :data:`ROUTES` says which, for which path and method),
and turn the :class:`WebResponse` back into their own response. Per request, a
:class:`RequestAuth` reads the session cookie once (lazily, on first use) and
collects the cookies to set, which the integration writes on whatever response
the request ends with.

The rules are Auth.js's (``@auth/core``):

- the session cookie holds the raw session token (``authjs.session-token``,
  ``__Secure-`` prefixed on https; the v4 names are read too). On https only the
  ``__Secure-`` names are read, as Auth.js reads only its own name there: a
  plain-http response or a sibling subdomain can set an unprefixed cookie and so
  sign the browser into a session of the attacker's choosing; a valid session
  re-sets it with the expiry ``now + max_age`` on every read, an unknown, expired or
  tampered token clears it;
- every POST carries a CSRF token checked against the ``authjs.csrf-token`` cookie
  (``__Host-`` prefixed on https), whose value is ``token|sha256(token + secret)``:
  a double-submit cookie that only this server (or a Next.js app with the same
  secret) can have made;
- ``GET {base}/session`` answers ``{"user": {"name", "email", "image"}, "expires": ISO}``
  or ``null``;
- redirects after a sign-in or sign-out go to the ``callbackUrl`` given only when it
  is a path of this site or an absolute URL of the same origin; anything else goes
  to the default (no open redirect).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from datetime import timedelta
from datetime import timezone
from typing import Any
from urllib.parse import unquote
from urllib.parse import urlsplit

from peewee_authjs.adapter import PeeweeAdapter
from peewee_authjs.contract import AdapterSession
from peewee_authjs.contract import AdapterUser
from peewee_authjs.contract import SessionAndUser
from peewee_authjs.email_signin import EmailSignIn
from peewee_authjs.email_signin import LinkSender
from peewee_authjs.email_signin import log_link_sender
from peewee_authjs.errors import ConfigurationError
from peewee_authjs.errors import InvalidInputError
from peewee_authjs.errors import NotFoundError
from peewee_authjs.errors import VerificationError
from peewee_authjs.fields import utcnow
from peewee_authjs.pages import Pages
from peewee_authjs.sessions import DEFAULT_MAX_AGE
from peewee_authjs.sessions import DEFAULT_UPDATE_AGE
from peewee_authjs.sessions import SESSION_COOKIE_NAMES
from peewee_authjs.sessions import SessionCookie
from peewee_authjs.sessions import SessionManager
from peewee_authjs.sessions import session_cookie_name

logger = logging.getLogger("peewee_authjs.web")

#: The form field (and JSON key) that carries the CSRF token, as in Auth.js.
CSRF_FIELD = "csrfToken"
#: The request header that may carry the CSRF token instead (for ``fetch`` clients).
CSRF_HEADER = "X-CSRF-Token"
#: The CSRF cookie's name (``__Host-`` prefixed on https).
CSRF_COOKIE = "authjs.csrf-token"

HTML = "text/html; charset=utf-8"
JSON = "application/json"

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def csrf_cookie_name(*, secure: bool) -> str:
    """``authjs.csrf-token``, or ``__Host-authjs.csrf-token`` on https (as Auth.js names it)."""
    return "__Host-" + CSRF_COOKIE if secure else CSRF_COOKIE


def js_iso(value: datetime) -> str:
    """``value`` as JavaScript's ``Date.prototype.toISOString`` writes it: ``2024-05-06T07:08:09.123Z``."""
    utc = value.astimezone(timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def session_payload(found: SessionAndUser | None) -> dict[str, Any] | None:
    """Auth.js's ``/session`` body for a read session: ``{"user": {"name", "email", "image"},
    "expires": ISO}``; None (JSON ``null``) when there is no session."""
    if found is None:
        return None
    user = found["user"]
    return {
        "user": {"name": user.get("name"), "email": user.get("email"), "image": user.get("image")},
        "expires": js_iso(found["session"]["expires"]),
    }


def origin(url: str) -> tuple[str, str]:
    """The (scheme, host[:port]) of an absolute URL, lowercased."""
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def safe_redirect(target: str | None, base_url: str, default: str) -> str:
    """``target`` when it is safe to redirect to, else ``default``.

    Safe: a path of this site (``/...``, but not ``//host`` nor ``/\\host``, which
    browsers read as another host), or an absolute http(s) URL whose origin is
    ``base_url``'s. Control characters, backslashes and lone surrogates (which no
    ``Location`` header can carry) are refused outright.
    """
    if not target or not isinstance(target, str):
        return default
    if any(ch < " " or ch == "\x7f" or ch == "\\" or "\ud800" <= ch <= "\udfff" for ch in target):
        return default
    parts = urlsplit(target)
    if not parts.scheme and not parts.netloc:
        if target.startswith("/") and not target.startswith("//"):
            return target
        return default
    if parts.scheme.lower() in ("http", "https") and origin(target) == origin(base_url):
        return target
    return default


@dataclass(frozen=True)
class WebSettings:
    """How the sign-in routes behave; the integrations fill it from their configuration.

    :param secret: the secret of link hashes and CSRF tokens (Auth.js's ``AUTH_SECRET``).
    :param url: the public URL of the app's root (``https://example.com``); None takes it
        from each request (only behind a proxy that fixes the ``Host`` header).
    :param base_path: where the routes live under the app's root (Auth.js: ``/auth``).
    :param secure_cookies: ``__Secure-``/``__Host-`` names and the ``Secure`` attribute;
        None decides by the scheme of ``url`` (or of the request).
    :param v4_cookies: write next-auth v4's session cookie name (both are read).
    :param max_age: session lifetime (Auth.js ``session.maxAge``).
    :param update_age: at most how often a read extends a session (``session.updateAge``).
    :param link_max_age: how long an e-mailed link works.
    :param signin_redirect: where to go after sign-in or sign-out without a ``callbackUrl``.
    """

    secret: str
    url: str | None = None
    base_path: str = "/auth"
    secure_cookies: bool | None = None
    v4_cookies: bool = False
    max_age: timedelta = DEFAULT_MAX_AGE
    update_age: timedelta = DEFAULT_UPDATE_AGE
    link_max_age: timedelta = timedelta(hours=24)
    signin_redirect: str = "/"

    def __post_init__(self) -> None:
        if not isinstance(self.secret, str) or not self.secret:
            raise ConfigurationError("secret: a non-empty string is required", "secret")
        if self.url is not None and not self.url.startswith(("http://", "https://")):
            raise ConfigurationError("url: must be an absolute http(s) URL", "url")
        if not self.base_path.startswith("/") or self.base_path.endswith("/"):
            raise ConfigurationError("base_path: must start with '/' and not end with it", "base_path")


@dataclass(frozen=True)
class WebRequest:
    """What a handler needs of a request.

    :param url_root: the URL of the app's root as the request reached it
        (``http://localhost:5000/``), used when no public URL is configured.
    :param form: the POSTed fields (form or JSON body); empty for a GET.
    """

    method: str
    url_root: str
    query: Mapping[str, str] = field(default_factory=dict)
    form: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass
class WebResponse:
    """A handler's answer: status, body, and a ``Location`` for redirects."""

    status: int = 200
    body: str = ""
    content_type: str = HTML
    location: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


class RequestAuth:
    """One request's sign-in state: the session (read once, on first use) and the cookies to set.

    :ivar session_token: the token of the request's session cookie, or None.
    """

    def __init__(self, web: AuthWeb, cookies: Mapping[str, str], base_url: str) -> None:
        self.web = web
        self.base_url = base_url
        self.secure = web.secure_for(base_url)
        self._cookies = cookies
        #: The session cookies the request sent (on https, only the ``__Secure-`` ones count).
        self.present = [
            name
            for name in SESSION_COOKIE_NAMES
            if cookies.get(name) and (name.startswith("__Secure-") or not self.secure)
        ]
        self.session_token: str | None = cookies[self.present[0]] if self.present else None
        self._read = False
        self._found: SessionAndUser | None = None
        self._csrf: str | None = None
        #: The cookies to set on the response, by name (the last one set wins).
        self.outgoing: dict[str, SessionCookie] = {}

    def __repr__(self) -> str:
        state = "unread" if not self._read else ("signed in" if self._found else "anonymous")
        return f"<RequestAuth {state}>"

    # -- the session -------------------------------------------------------------------------

    @property
    def session_and_user(self) -> SessionAndUser | None:
        """The request's session and user (read on first use, with Auth.js's rules), or None.

        A valid session re-sets its cookie with the expiry ``now + max_age``; a token that
        reads as no session (unknown, tampered, expired) clears the session cookies.
        """
        if not self._read:
            self._read = True
            found = self.web.sessions.read(self.session_token) if self.session_token else None
            self._found = found
            if found is not None:
                self._set_session_cookie(
                    found["session"], self.web.sessions.now() + self.web.sessions.max_age
                )
            elif self.session_token:
                self.clear_session_cookies()
        return self._found

    @property
    def user(self) -> AdapterUser | None:
        """The signed-in user, or None."""
        found = self.session_and_user
        return found["user"] if found else None

    @property
    def session(self) -> AdapterSession | None:
        """The request's live session, or None."""
        found = self.session_and_user
        return found["session"] if found else None

    def signed_in(self, user: AdapterUser, session: AdapterSession) -> None:
        """Make a session started during this request the request's session, and set its cookie."""
        self._read = True
        self._found = {"user": user, "session": session}
        self.session_token = session["session_token"]
        self._set_session_cookie(session, session["expires"])

    def signed_out(self) -> None:
        """Forget the request's session and clear the session cookies."""
        self._read = True
        self._found = None
        self.session_token = None
        self.clear_session_cookies()

    def _set_session_cookie(self, session: AdapterSession, expires: datetime) -> None:
        cookie = self.web.sessions.cookie(session, secure=self.secure, v4=self.web.settings.v4_cookies)
        self.outgoing[cookie.name] = SessionCookie(cookie.name, cookie.value, expires, cookie.secure)

    def clear_session_cookies(self) -> None:
        """Clear every session cookie the request sent, and the one this site writes."""
        name = session_cookie_name(secure=self.secure, v4=self.web.settings.v4_cookies)
        for each in {*self.present, name}:
            secure = self.secure or each.startswith("__Secure-")
            self.outgoing[each] = SessionCookie(each, "", _EPOCH, secure)

    # -- CSRF -------------------------------------------------------------------------------

    def _csrf_from_cookie(self) -> str | None:
        raw = self._cookies.get(csrf_cookie_name(secure=self.secure))
        if not raw:
            return None
        token, _, digest = unquote(raw).partition("|")
        if token and hmac.compare_digest(digest.encode(), self.web.csrf_hash(token).encode()):
            return token
        return None

    def csrf_token(self) -> str:
        """The CSRF token to put in this request's forms; sets the CSRF cookie when it has none
        (or a forged one)."""
        if self._csrf is None:
            token = self._csrf_from_cookie()
            if token is None:
                token = secrets.token_hex(32)
                name = csrf_cookie_name(secure=self.secure)
                value = f"{token}|{self.web.csrf_hash(token)}"
                self.outgoing[name] = SessionCookie(name, value, None, self.secure)
            self._csrf = token
        return self._csrf

    def csrf_valid(self, submitted: str | None) -> bool:
        """Whether ``submitted`` is the token of a CSRF cookie this server made."""
        token = self._csrf_from_cookie()
        if token is None or not isinstance(submitted, str) or not submitted:
            return False
        # surrogatepass: a lone surrogate (JSON can carry one) is just another wrong token
        return hmac.compare_digest(token.encode(), submitted.encode("utf-8", "surrogatepass"))


Handler = Callable[["AuthWeb", RequestAuth, WebRequest], WebResponse]


class AuthWeb:
    """The sign-in routes over an adapter, for any framework.

    :param send: delivers sign-in links (``send(email, url)``); the default logs them.
    :param pages: the HTML pages (:class:`~peewee_authjs.pages.Pages` or a subclass).
    :param clock: the current time (tests pass a controllable one).
    """

    def __init__(
        self,
        adapter: PeeweeAdapter,
        settings: WebSettings,
        *,
        send: LinkSender = log_link_sender,
        pages: Pages | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.adapter = adapter
        self.settings = settings
        self.send = send
        self.pages = pages if pages is not None else Pages()
        self.sessions = SessionManager(
            adapter, max_age=settings.max_age, update_age=settings.update_age, clock=clock
        )
        self._email: dict[str, EmailSignIn] = {}

    def __repr__(self) -> str:
        return f"<AuthWeb {self.settings.base_path} on {self.adapter!r}>"

    # -- per request -------------------------------------------------------------------------

    def base_url(self, url_root: str) -> str:
        """The app's root URL, without a trailing slash: the configured one, else the request's."""
        return (self.settings.url or url_root).rstrip("/")

    def secure_for(self, base_url: str) -> bool:
        """Whether cookies get ``Secure`` and the ``__Secure-``/``__Host-`` names."""
        if self.settings.secure_cookies is not None:
            return self.settings.secure_cookies
        return base_url.lower().startswith("https://")

    def begin(self, cookies: Mapping[str, str], url_root: str) -> RequestAuth:
        """The sign-in state of a new request (reads nothing yet)."""
        return RequestAuth(self, cookies, self.base_url(url_root))

    def csrf_hash(self, token: str) -> str:
        """``sha256(token + secret)`` in hex: the half of the CSRF cookie that proves its origin."""
        return hashlib.sha256((token + self.settings.secret).encode("utf-8")).hexdigest()

    def path(self, auth: RequestAuth, action: str) -> str:
        """The URL path of one of the routes (``action`` like ``/signin``), under the app's root."""
        root = urlsplit(auth.base_url).path.rstrip("/")
        return f"{root}{self.settings.base_path}{action}"

    def email(self, auth: RequestAuth) -> EmailSignIn:
        """The e-mail sign-in whose links point at this site's callback route (one per root URL)."""
        found = self._email.get(auth.base_url)
        if found is not None:
            return found
        if len(self._email) >= 16:  # URLs taken from requests: keep a few, never grow unbounded
            self._email.clear()
        root = urlsplit(auth.base_url)
        found = self._email[auth.base_url] = EmailSignIn(
            self.adapter,
            self.sessions,
            secret=self.settings.secret,
            base_url=f"{root.scheme}://{root.netloc}",
            send=self.send,
            max_age=self.settings.link_max_age,
            callback_path=self.path(auth, "/callback/email"),
        )
        return found

    def redirect_target(self, auth: RequestAuth, target: str | None, default: str | None = None) -> str:
        """``target`` if it is safe (same origin), else ``default`` (the configured sign-in redirect)."""
        return safe_redirect(target, auth.base_url, default or self.settings.signin_redirect)

    # -- responses ---------------------------------------------------------------------------

    def html(self, body: str, status: int = 200) -> WebResponse:
        """An HTML response that no cache keeps (every page holds a CSRF token or a link's token)."""
        return WebResponse(status, body, HTML, headers={"Cache-Control": "no-store"})

    def redirect(self, location: str) -> WebResponse:
        """A 303 See Other (after a POST the browser GETs ``location``)."""
        return WebResponse(303, "", HTML, location=location)

    def json(self, value: Any, status: int = 200) -> WebResponse:
        """A JSON response that no cache keeps."""
        return WebResponse(status, json.dumps(value), JSON, headers={"Cache-Control": "no-store"})

    def csrf_refused(self, auth: RequestAuth) -> WebResponse:
        """403: the POST carried no CSRF token, or not the cookie's."""
        return self.html(
            self.pages.error(
                title="Request refused",
                message="This form has expired or was not sent from this site. "
                "Go back, reload the page and try again.",
            ),
            403,
        )

    def not_signed_in(self, auth: RequestAuth) -> WebResponse:
        """401: the route needs a signed-in user."""
        return self.html(
            self.pages.error(
                title="Not signed in",
                message="You need to be signed in to do this.",
                retry_url=self.path(auth, "/signin"),
            ),
            401,
        )

    # -- the routes --------------------------------------------------------------------------

    def signin_page(self, auth: RequestAuth, request: WebRequest) -> WebResponse:
        """GET ``/signin``: the e-mail form (``callbackUrl`` or Flask-Login's ``next`` kept if safe)."""
        wanted = request.query.get("callbackUrl") or request.query.get("next")
        callback = safe_redirect(wanted, auth.base_url, "") or None
        page = self.pages.signin(
            action=self.path(auth, "/signin/email"),
            csrf_token=auth.csrf_token(),
            callback_url=callback,
            error=None,
        )
        return self.html(page)

    def signin_email(self, auth: RequestAuth, request: WebRequest) -> WebResponse:
        """POST ``/signin/email``: store a link token and send the link; then "check your e-mail"."""
        if not auth.csrf_valid(request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER)):
            return self.csrf_refused(auth)
        callback = self.redirect_target(auth, request.form.get("callbackUrl"))
        try:
            self.email(auth).send_link(request.form.get("email", ""), callback_url=callback)
        except InvalidInputError:
            page = self.pages.signin(
                action=self.path(auth, "/signin/email"),
                csrf_token=auth.csrf_token(),
                callback_url=callback,
                error="Enter a valid e-mail address.",
            )
            return self.html(page, 400)
        except OSError as exc:  # smtplib's errors are OSErrors
            logger.error("sign-in link could not be sent: %s", type(exc).__name__)
            page = self.pages.error(
                title="E-mail not sent",
                message="The sign-in e-mail could not be sent. Try again later.",
                retry_url=self.path(auth, "/signin"),
            )
            return self.html(page, 502)
        return self.redirect(self.path(auth, "/verify-request"))

    def verify_request(self, auth: RequestAuth, request: WebRequest) -> WebResponse:
        """GET ``/verify-request``: "check your e-mail"."""
        return self.html(self.pages.verify_request())

    def _link_refused(self, auth: RequestAuth) -> WebResponse:
        page = self.pages.error(
            title="Sign-in link invalid",
            message="This sign-in link is invalid, has expired or has been used already.",
            retry_url=self.path(auth, "/signin"),
        )
        return self.html(page, 400)

    def callback_check(self, auth: RequestAuth, request: WebRequest) -> WebResponse:
        """GET ``/callback/email``: check the link without using it; a page with a confirm button.

        Mail scanners that open the link therefore cannot use it up.
        """
        token = request.query.get("token", "")
        email = request.query.get("email")
        if not token or not self.email(auth).check(email, token):
            return self._link_refused(auth)
        callback = safe_redirect(request.query.get("callbackUrl"), auth.base_url, "") or None
        page = self.pages.confirm(
            action=self.path(auth, "/callback/email"),
            csrf_token=auth.csrf_token(),
            email=email,
            token=token,
            callback_url=callback,
        )
        response = self.html(page)
        response.headers["Referrer-Policy"] = "no-referrer"  # the page's URL holds the token
        return response

    def callback_sign_in(self, auth: RequestAuth, request: WebRequest) -> WebResponse:
        """POST ``/callback/email``: use the link, start a session, set its cookie, redirect.

        A session this browser had before is ended: its cookie is replaced (Auth.js ends it
        only when it belongs to another user, and leaves it orphaned otherwise).
        """
        if not auth.csrf_valid(request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER)):
            return self.csrf_refused(auth)
        previous = auth.session_token
        try:
            user, session = self.email(auth).sign_in(
                request.form.get("email"), request.form.get("token", ""), session_token=previous
            )
        except VerificationError as exc:
            logger.info("e-mail sign-in refused: %s", exc.reason)
            return self._link_refused(auth)
        if previous:
            self.sessions.end(previous)
        auth.signed_in(user, session)
        return self.redirect(self.redirect_target(auth, request.form.get("callbackUrl")))

    def signout_page(self, auth: RequestAuth, request: WebRequest) -> WebResponse:
        """GET ``/signout``: "are you sure?" with a button (a GET never signs out)."""
        callback = safe_redirect(request.query.get("callbackUrl"), auth.base_url, "") or None
        page = self.pages.signout(
            action=self.path(auth, "/signout"), csrf_token=auth.csrf_token(), callback_url=callback
        )
        return self.html(page)

    def signout(self, auth: RequestAuth, request: WebRequest) -> WebResponse:
        """POST ``/signout``: end the session, clear its cookie, redirect (idempotent)."""
        if not auth.csrf_valid(request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER)):
            return self.csrf_refused(auth)
        self.sessions.end(auth.session_token)
        auth.signed_out()
        return self.redirect(self.redirect_target(auth, request.form.get("callbackUrl")))

    def signout_others(self, auth: RequestAuth, request: WebRequest) -> WebResponse:
        """POST ``/signout-others``: end every session of the user but this one ("sign out other
        devices"); 401 when not signed in."""
        if not auth.csrf_valid(request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER)):
            return self.csrf_refused(auth)
        found = auth.session_and_user
        if found is None:
            return self.not_signed_in(auth)
        try:
            ended = self.sessions.revoke_others(found["user"]["id"], found["session"]["session_token"])
        except NotFoundError:  # the session was ended meanwhile by a concurrent request
            auth.signed_out()
            return self.not_signed_in(auth)
        logger.info("signed out %d other session(s)", ended)
        return self.redirect(self.redirect_target(auth, request.form.get("callbackUrl")))

    def session_json(self, auth: RequestAuth, request: WebRequest) -> WebResponse:
        """GET ``/session``: Auth.js's session body, or ``null``."""
        return self.json(session_payload(auth.session_and_user))

    def csrf_json(self, auth: RequestAuth, request: WebRequest) -> WebResponse:
        """GET ``/csrf``: ``{"csrfToken": ...}`` for scripts that post (Auth.js's ``/csrf``)."""
        return self.json({"csrfToken": auth.csrf_token()})


#: The routes: (path under the base path, HTTP method, handler, endpoint name).
ROUTES: tuple[tuple[str, str, Handler, str], ...] = (
    ("/signin", "GET", AuthWeb.signin_page, "signin"),
    ("/signin/email", "POST", AuthWeb.signin_email, "signin_email"),
    ("/verify-request", "GET", AuthWeb.verify_request, "verify_request"),
    ("/callback/email", "GET", AuthWeb.callback_check, "callback_email"),
    ("/callback/email", "POST", AuthWeb.callback_sign_in, "callback_email_post"),
    ("/signout", "GET", AuthWeb.signout_page, "signout"),
    ("/signout", "POST", AuthWeb.signout, "signout_post"),
    ("/signout-others", "POST", AuthWeb.signout_others, "signout_others"),
    ("/session", "GET", AuthWeb.session_json, "session"),
    ("/csrf", "GET", AuthWeb.csrf_json, "csrf"),
)


__all__ = [
    "CSRF_COOKIE",
    "CSRF_FIELD",
    "CSRF_HEADER",
    "ROUTES",
    "AuthWeb",
    "RequestAuth",
    "WebRequest",
    "WebResponse",
    "WebSettings",
    "csrf_cookie_name",
    "js_iso",
    "safe_redirect",
    "session_payload",
]
