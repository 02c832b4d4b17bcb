"""Sign-in for Bottle apps: a plugin with Auth.js database sessions and e-mail links.

::

    import bottle
    from peewee_authjs import PeeweeAdapter
    from peewee_authjs.bottle_ext import AuthJSPlugin

    app = bottle.Bottle()
    authjs = AuthJSPlugin(PeeweeAdapter("sqlite:///auth.db"), secret=os.environ["AUTH_SECRET"],
                          url="https://example.com")
    app.install(authjs)

    @app.get("/")
    @authjs.login_required
    def home(authjs):                        # the request's RequestAuth, injected by keyword
        return f"Hello {authjs.user['email']}"

Installing the plugin mounts the routes under ``base_path`` (``/auth``), the same as the
Flask extension's (see :mod:`peewee_authjs.web`). Per request, the plugin gives the
sign-in state as ``bottle.request.authjs`` and, to callbacks with a parameter of
that name, as the keyword argument ``authjs`` (``keyword=`` changes it). The session
is read once, on first use; the cookies it needs (session re-set or cleared, CSRF)
are written on whatever response the callback ends with, also a raised
``redirect()`` or ``abort()``; the database connection is closed in ``finally``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import datetime
from datetime import timedelta
from functools import wraps
from typing import Any
from typing import TypeVar
from typing import cast
from urllib.parse import urlencode

import bottle
from peewee import Database
from peewee import DatabaseProxy

from peewee_authjs.adapter import PeeweeAdapter
from peewee_authjs.email_signin import LinkSender
from peewee_authjs.email_signin import log_link_sender
from peewee_authjs.errors import ConfigurationError
from peewee_authjs.fields import utcnow
from peewee_authjs.pages import Pages
from peewee_authjs.sessions import DEFAULT_MAX_AGE
from peewee_authjs.sessions import DEFAULT_UPDATE_AGE
from peewee_authjs.sessions import SessionManager
from peewee_authjs.web import CSRF_FIELD
from peewee_authjs.web import CSRF_HEADER
from peewee_authjs.web import ROUTES
from peewee_authjs.web import AuthWeb
from peewee_authjs.web import Handler
from peewee_authjs.web import RequestAuth
from peewee_authjs.web import WebRequest
from peewee_authjs.web import WebResponse
from peewee_authjs.web import WebSettings

F = TypeVar("F", bound=Callable[..., Any])

_ENVIRON_KEY = "peewee_authjs.auth"


def _url_root() -> str:
    """The app's root URL as the request reached it: scheme, ``Host`` and ``SCRIPT_NAME``, as
    Werkzeug builds it. Bottle's ``urlparts`` prefers ``X-Forwarded-Host``/``-Proto``, which a
    client may send and a proxy that sets ``Host`` passes through (a mailed link would point
    at the client's host); put a proxy-fix middleware in front to trust them.
    """
    environ = bottle.request.environ
    scheme = environ.get("wsgi.url_scheme", "http")
    host = environ.get("HTTP_HOST")
    if not host:  # an HTTP/1.0 client
        host = environ.get("SERVER_NAME", "127.0.0.1")
        port = environ.get("SERVER_PORT")
        if port and port != ("80" if scheme == "http" else "443"):
            host += ":" + port
    return f"{scheme}://{host}{bottle.request.script_name}"


def _decoded(values: bottle.FormsDict) -> dict[str, str]:
    """``values`` as text, bytes that are not UTF-8 read as U+FFFD (as Werkzeug reads them).

    Bottle's own ``FormsDict.decode()`` raises UnicodeDecodeError for them, a 500.
    """
    if not values.recode_unicode:  # multipart: Bottle has decoded the values already
        return dict(values.items())

    def text(value: str) -> str:
        return value.encode("latin-1").decode("utf-8", "replace")

    return {text(key): text(value) for key, value in values.items()}


def _fields() -> dict[str, str]:
    if bottle.request.method != "POST":
        return {}
    if (bottle.request.content_type or "").startswith("application/json"):
        body = bottle.request.json
        if isinstance(body, dict):
            return {key: value for key, value in body.items() if isinstance(value, str)}
        return {}
    try:
        forms = bottle.request.forms
    except UnicodeDecodeError:  # a multipart field that is not UTF-8: Bottle cannot parse the body
        return {}
    return _decoded(forms)


def _to_bottle(result: WebResponse) -> bottle.HTTPResponse:
    headers = {"Content-Type": result.content_type, **result.headers}
    if result.location is not None:
        headers["Location"] = result.location
    return bottle.HTTPResponse(result.body, status=result.status, headers=headers)


class AuthJSPlugin:
    """A Bottle plugin (API 2): the sign-in routes, the request's session, CSRF, cookies.

    :param adapter: the :class:`~peewee_authjs.PeeweeAdapter` holding users and sessions.
    :param secret: hashes link and CSRF tokens (Auth.js's ``AUTH_SECRET``).
    :param url: the app's public root URL; required unless ``trust_host``.
    :param trust_host: take the URL from each request (only behind a proxy that sets ``Host``).
    :param keyword: the keyword argument that receives the :class:`~peewee_authjs.web.RequestAuth`.
    :param routes: mount the sign-in routes under ``base_path`` when installed.
    :param close_connections: close the database connection after each request.

    The other parameters are those of :class:`~peewee_authjs.web.WebSettings` and
    :class:`~peewee_authjs.web.AuthWeb`.
    """

    name = "authjs"
    api = 2

    def __init__(
        self,
        adapter: PeeweeAdapter,
        *,
        secret: str,
        url: str | None = None,
        trust_host: bool = False,
        base_path: str = "/auth",
        keyword: str = "authjs",
        send: LinkSender = log_link_sender,
        pages: Pages | None = None,
        secure_cookies: bool | None = None,
        v4_cookies: bool = False,
        max_age: timedelta = DEFAULT_MAX_AGE,
        update_age: timedelta = DEFAULT_UPDATE_AGE,
        link_max_age: timedelta = timedelta(hours=24),
        signin_redirect: str = "/",
        routes: bool = True,
        close_connections: bool = True,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        if url is None and not trust_host:
            raise ConfigurationError(
                "url is not set: give the app's public URL (https://example.com), or trust_host=True "
                "to take it from each request's Host header",
                "url",
            )
        settings = WebSettings(
            secret=secret,
            url=url,
            base_path=base_path,
            secure_cookies=secure_cookies,
            v4_cookies=v4_cookies,
            max_age=max_age,
            update_age=update_age,
            link_max_age=link_max_age,
            signin_redirect=signin_redirect,
        )
        #: The framework-neutral routes and rules.
        self.web = AuthWeb(adapter, settings, send=send, pages=pages, clock=clock)
        self.keyword = keyword
        self.routes = routes
        self.close_connections = close_connections

    def __repr__(self) -> str:
        return f"<AuthJSPlugin {self.web.settings.base_path}>"

    @property
    def sessions(self) -> SessionManager:
        """The session manager (list a user's sessions, revoke one, ...)."""
        return self.web.sessions

    # -- the plugin API ----------------------------------------------------------------------

    def setup(self, app: bottle.Bottle) -> None:
        """Refuse a second sign-in plugin or one that injects the same keyword; mount the routes."""
        if self in app.plugins:
            raise bottle.PluginError("this AuthJSPlugin is installed on this app already")
        for other in app.plugins:
            if other is self or not hasattr(other, "apply"):
                continue
            if isinstance(other, AuthJSPlugin):
                raise bottle.PluginError("another AuthJSPlugin is installed on this app")
            if getattr(other, "keyword", None) == self.keyword:
                raise bottle.PluginError(f"another plugin already injects the keyword {self.keyword!r}")
        if self.routes:
            base = self.web.settings.base_path
            for path, method, handler, endpoint in ROUTES:
                app.route(base + path, method, self._view(handler), name=f"authjs.{endpoint}")

    def apply(self, callback: Callable[..., Any], route: bottle.Route) -> Callable[..., Any]:
        """Wrap ``callback``: the sign-in state per request, cookies written, connection closed."""
        wants = self.keyword in _accepted(route)

        @wraps(callback)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            auth = self.current()
            if wants:
                kwargs[self.keyword] = auth
            try:
                result = callback(*args, **kwargs)
            except bottle.HTTPResponse as raised:  # redirect(), abort(), HTTPError
                self._write_cookies(auth, raised)
                raise
            finally:
                self._close_connection()
            self._write_cookies(auth, result if isinstance(result, bottle.HTTPResponse) else bottle.response)
            return result

        return wrapper

    def close(self) -> None:
        """Nothing to release when uninstalled (the adapter belongs to the app)."""

    # -- per request -------------------------------------------------------------------------

    def current(self) -> RequestAuth:
        """This request's sign-in state (also ``bottle.request.authjs``)."""
        environ = bottle.request.environ
        auth = environ.get(_ENVIRON_KEY)
        if auth is None:
            cookies = {key: value for key, value in bottle.request.cookies.items()}
            auth = environ[_ENVIRON_KEY] = self.web.begin(cookies, _url_root())
            bottle.request.authjs = auth
        return cast(RequestAuth, auth)

    def login_required(self, callback: F) -> F:
        """Decorate a route callback: anonymous GETs go to the sign-in page (and come back
        after), other anonymous requests get 401."""

        @wraps(callback)
        def protected(*args: Any, **kwargs: Any) -> Any:
            auth = self.current()
            if auth.user is None:
                if bottle.request.method in ("GET", "HEAD"):
                    query = urlencode({"callbackUrl": bottle.request.url})
                    location = self.web.path(auth, "/signin") + "?" + query
                    raise bottle.HTTPResponse(status=302, headers={"Location": location})
                raise _to_bottle(self.web.not_signed_in(auth))
            return callback(*args, **kwargs)

        return cast(F, protected)

    def csrf_protect(self, callback: F) -> F:
        """Decorate a route callback: refuse (403) a non-GET request without this site's CSRF
        token (form field ``csrfToken`` or header ``X-CSRF-Token``)."""

        @wraps(callback)
        def protected(*args: Any, **kwargs: Any) -> Any:
            if bottle.request.method not in ("GET", "HEAD", "OPTIONS"):
                auth = self.current()
                submitted = _fields().get(CSRF_FIELD) or bottle.request.headers.get(CSRF_HEADER)
                if not auth.csrf_valid(submitted):
                    raise _to_bottle(self.web.csrf_refused(auth))
            return callback(*args, **kwargs)

        return cast(F, protected)

    def _view(self, handler: Handler) -> Callable[[], bottle.HTTPResponse]:
        def view() -> bottle.HTTPResponse:
            web_request = WebRequest(
                method=bottle.request.method,
                url_root=_url_root(),
                query=_decoded(bottle.request.query),
                form=_fields(),
                headers={CSRF_HEADER: bottle.request.headers.get(CSRF_HEADER, "")},
            )
            return _to_bottle(handler(self.web, self.current(), web_request))

        view.__name__ = handler.__name__
        view.__doc__ = handler.__doc__
        return view

    def _write_cookies(self, auth: RequestAuth, target: bottle.BaseResponse) -> None:
        for cookie in auth.outgoing.values():
            target.set_cookie(cookie.name, cookie.value, **cookie.set_cookie_options())
        if auth.session_token is not None or auth.outgoing:  # as Flask: no shared cache mixes users
            vary = target.get_header("Vary") or ""
            if "cookie" not in vary.lower():
                target.add_header("Vary", "Cookie")

    def _close_connection(self) -> None:
        if not self.close_connections:
            return
        database = self.web.adapter.database
        db = cast(Database | None, database.obj if isinstance(database, DatabaseProxy) else database)
        if db is not None and not db.is_closed() and not db.in_transaction():
            db.close()


def _accepted(route: bottle.Route) -> set[str]:
    """The keyword arguments the route's callback takes (through ``functools.wraps`` decorators).

    Bottle's own ``get_callback_args`` also guesses through closures, which can find a
    function the callback merely uses; ``inspect.signature`` follows ``__wrapped__`` only.
    """
    try:
        parameters = inspect.signature(route.callback).parameters.values()
    except (TypeError, ValueError):
        return set()
    return {p.name for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}


__all__ = ["AuthJSPlugin"]
