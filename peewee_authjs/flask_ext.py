"""Sign-in for Flask apps: Auth.js database sessions, e-mail links, Flask-Login's ``current_user``.

::

    from flask import Flask
    from flask_login import current_user, login_required
    from peewee_authjs.flask_ext import AuthJS

    authjs = AuthJS()

    def create_app():
        app = Flask(__name__)
        app.config["AUTHJS_SECRET"] = os.environ["AUTH_SECRET"]      # the Next.js app's, to share links
        app.config["AUTHJS_DATABASE_URL"] = "postgresql://app@db/app"
        app.config["AUTHJS_URL"] = "https://example.com"
        authjs.init_app(app)
        return app

    @app.get("/")
    @login_required
    def home():
        return f"Hello {current_user.email}"

The routes live under ``AUTHJS_BASE_PATH`` (``/auth``): ``GET /auth/signin``,
``POST /auth/signin/email``, ``GET /auth/verify-request``, ``GET``/``POST
/auth/callback/email``, ``GET``/``POST /auth/signout``, ``POST /auth/signout-others``,
``GET /auth/session``, ``GET /auth/csrf`` (blueprint ``authjs``; see
:mod:`peewee_authjs.web` for what each does).

The session is read from the Auth.js session cookie once per request, when first
needed (``current_user``, :attr:`AuthJS.user`, ...), with Auth.js's rules; its cookie
is then re-set with the new expiry, or cleared when the token is unknown or expired.
Flask's own ``session`` is not used: no ``SECRET_KEY`` is needed.

Settings (``app.config``; defaults in :data:`DEFAULTS`):

==============================  ==================================================================
``AUTHJS_SECRET``               required: hashes link tokens and CSRF tokens (Auth.js ``AUTH_SECRET``)
``AUTHJS_DATABASE_URL``         required unless an adapter is passed: ``sqlite:///auth.db``, ...
``AUTHJS_URL``                  the app's public root URL, for links, cookie security and redirects;
                                required unless ``AUTHJS_TRUST_HOST``
``AUTHJS_TRUST_HOST``           take the URL from each request instead (only behind a proxy that
                                sets ``Host``, or with Flask's ``TRUSTED_HOSTS``)
``AUTHJS_BASE_PATH``            ``/auth``
``AUTHJS_SECURE_COOKIES``       None: decided by the URL's scheme (https: ``__Secure-``, ``Secure``)
``AUTHJS_V4_COOKIES``           False: write ``authjs.session-token``; True: next-auth v4's name
``AUTHJS_SESSION_MAX_AGE``      30 days (timedelta or seconds)
``AUTHJS_SESSION_UPDATE_AGE``   1 day
``AUTHJS_LINK_MAX_AGE``         24 hours
``AUTHJS_SIGNIN_REDIRECT``      ``/``: where sign-in and sign-out go without a ``callbackUrl``
``AUTHJS_CLOSE_CONNECTIONS``    True: close the database connection at the end of each request
==============================  ==================================================================
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from datetime import timedelta
from functools import wraps
from typing import Any
from typing import TypeVar
from typing import cast

from flask import Blueprint
from flask import Flask
from flask import Response
from flask import current_app
from flask import request
from flask_login import LoginManager
from flask_login import UserMixin
from peewee import Database
from peewee import DatabaseProxy

from peewee_authjs.adapter import PeeweeAdapter
from peewee_authjs.contract import AdapterSession
from peewee_authjs.contract import AdapterUser
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
from peewee_authjs.web import RequestAuth
from peewee_authjs.web import WebRequest
from peewee_authjs.web import WebResponse
from peewee_authjs.web import WebSettings

#: The defaults of the ``AUTHJS_*`` settings, set on ``app.config`` by :meth:`AuthJS.init_app`.
DEFAULTS: dict[str, Any] = {
    "AUTHJS_SECRET": None,
    "AUTHJS_DATABASE_URL": None,
    "AUTHJS_URL": None,
    "AUTHJS_TRUST_HOST": False,
    "AUTHJS_BASE_PATH": "/auth",
    "AUTHJS_SECURE_COOKIES": None,
    "AUTHJS_V4_COOKIES": False,
    "AUTHJS_SESSION_MAX_AGE": DEFAULT_MAX_AGE,
    "AUTHJS_SESSION_UPDATE_AGE": DEFAULT_UPDATE_AGE,
    "AUTHJS_LINK_MAX_AGE": timedelta(hours=24),
    "AUTHJS_SIGNIN_REDIRECT": "/",
    "AUTHJS_CLOSE_CONNECTIONS": True,
}

#: The blueprint's name: ``url_for("authjs.signin")``.
BLUEPRINT = "authjs"

F = TypeVar("F", bound=Callable[..., Any])


class User(UserMixin):  # type: ignore[misc]
    """The signed-in user as Flask-Login's ``current_user``: the adapter's record, read-only.

    ``current_user.id``, ``.email``, ``.name``, ``.image``, ``.email_verified``, and
    ``current_user.record`` for every column (custom ones too).
    """

    def __init__(self, record: AdapterUser) -> None:
        #: The user's row, as the adapter returns it.
        self.record = record
        self.id: str = record["id"]

    def __repr__(self) -> str:
        return f"<User {self.id}>"

    @property
    def email(self) -> str | None:
        """The user's e-mail address."""
        return self.record.get("email")

    @property
    def name(self) -> str | None:
        """The user's name."""
        return self.record.get("name")

    @property
    def image(self) -> str | None:
        """The URL of the user's picture."""
        return self.record.get("image")

    @property
    def email_verified(self) -> datetime | None:
        """When the address was last verified (e-mail sign-ins set it)."""
        return self.record.get("email_verified")


class _LoginManager(LoginManager):  # type: ignore[misc]
    """The Flask-Login manager AuthJS makes when the app has none.

    Flask's session is not used, so Flask-Login's remember-me cookie is never one of
    ours. Flask-Login reads that cookie (``remember_token``, e.g. left by another app
    on the host) instead of calling the request loader, and decoding it needs a
    ``SECRET_KEY``: here the request loader answers in its place.
    """

    def _load_user_from_remember_cookie(self, cookie: str) -> User | None:
        return cast(User | None, self._load_user_from_request(request))


def _seconds(value: Any, name: str) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return timedelta(seconds=value)
    raise ConfigurationError(f"{name}: expected a timedelta or a number of seconds", name)


def _database(adapter: PeeweeAdapter) -> Database | None:
    database = adapter.database
    return cast(Database | None, database.obj if isinstance(database, DatabaseProxy) else database)


class AuthJS:
    """The Flask extension: routes, per-request session, Flask-Login wiring.

    :param app: initialise it now (else call :meth:`init_app`, e.g. in an app factory).
    :param adapter: the adapter to use; None opens ``AUTHJS_DATABASE_URL`` for each app.
    :param send: delivers sign-in links, ``send(email, url)`` (e.g.
        :class:`~peewee_authjs.email_signin.SmtpLinkSender`); the default logs them (development).
    :param pages: the HTML pages (a :class:`~peewee_authjs.pages.Pages` subclass to restyle them).
    :param login_manager: the Flask-Login manager to wire; None uses the app's, or makes one
        whose ``login_view`` is the sign-in page.
    :param clock: the current time (tests).
    """

    def __init__(
        self,
        app: Flask | None = None,
        adapter: PeeweeAdapter | None = None,
        *,
        send: LinkSender = log_link_sender,
        pages: Pages | None = None,
        login_manager: LoginManager | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.adapter = adapter
        self.send = send
        self.pages = pages
        self.login_manager = login_manager
        self.clock = clock
        if app is not None:
            self.init_app(app)

    def __repr__(self) -> str:
        return f"<AuthJS adapter={self.adapter!r}>"

    # -- setup -------------------------------------------------------------------------------

    def settings(self, app: Flask) -> WebSettings:
        """The app's ``AUTHJS_*`` settings, checked; ConfigurationError names a missing or bad one."""
        config = app.config
        secret = config["AUTHJS_SECRET"]
        if not secret or not isinstance(secret, str):
            raise ConfigurationError(
                "AUTHJS_SECRET is not set: give it a long random string (the Next.js app's "
                "AUTH_SECRET to share sign-in links with it)",
                "AUTHJS_SECRET",
            )
        url = config["AUTHJS_URL"]
        if url is None and not config["AUTHJS_TRUST_HOST"]:
            raise ConfigurationError(
                "AUTHJS_URL is not set: give the app's public URL (https://example.com), or set "
                "AUTHJS_TRUST_HOST = True to take it from each request's Host header",
                "AUTHJS_URL",
            )
        names = {
            "url": "AUTHJS_URL",
            "base_path": "AUTHJS_BASE_PATH",
        }
        try:
            return WebSettings(
                secret=secret,
                url=url,
                base_path=config["AUTHJS_BASE_PATH"],
                secure_cookies=config["AUTHJS_SECURE_COOKIES"],
                v4_cookies=bool(config["AUTHJS_V4_COOKIES"]),
                max_age=_seconds(config["AUTHJS_SESSION_MAX_AGE"], "AUTHJS_SESSION_MAX_AGE"),
                update_age=_seconds(config["AUTHJS_SESSION_UPDATE_AGE"], "AUTHJS_SESSION_UPDATE_AGE"),
                link_max_age=_seconds(config["AUTHJS_LINK_MAX_AGE"], "AUTHJS_LINK_MAX_AGE"),
                signin_redirect=config["AUTHJS_SIGNIN_REDIRECT"],
            )
        except ConfigurationError as exc:
            setting = names.get(exc.setting or "", exc.setting)
            raise ConfigurationError(f"{setting}: {exc}", setting) from None

    def init_app(self, app: Flask) -> None:
        """Read the app's settings, register the routes, the cookie writer and Flask-Login's loader.

        Raises ConfigurationError naming the first missing or invalid setting.
        """
        for key, value in DEFAULTS.items():
            app.config.setdefault(key, value)
        settings = self.settings(app)
        adapter = self.adapter
        if adapter is None:
            url = app.config["AUTHJS_DATABASE_URL"]
            if not url:
                raise ConfigurationError(
                    "AUTHJS_DATABASE_URL is not set: give a database URL (sqlite:///auth.db, "
                    "postgresql://user@host/db, mysql://user@host/db) or pass adapter= to AuthJS",
                    "AUTHJS_DATABASE_URL",
                )
            adapter = PeeweeAdapter(url)
        web = AuthWeb(adapter, settings, send=self.send, pages=self.pages, clock=self.clock)
        app.extensions["authjs"] = web
        app.register_blueprint(self._blueprint(settings.base_path))
        app.after_request(_write_cookies)
        if app.config["AUTHJS_CLOSE_CONNECTIONS"]:
            app.teardown_request(_close_connection)
        app.jinja_env.globals["authjs_csrf_token"] = self.csrf_token
        self._wire_login(app)

    def _wire_login(self, app: Flask) -> None:
        manager = self.login_manager or getattr(app, "login_manager", None)
        if manager is None:
            manager = _LoginManager()
            manager.init_app(app)
            manager.login_view = f"{BLUEPRINT}.signin"
            manager.login_message = None  # a flash() would need Flask's session and SECRET_KEY
        elif getattr(app, "login_manager", None) is not manager:
            manager.init_app(app)
        if manager._request_callback not in (None, _load_user):
            raise ConfigurationError(
                "the app's LoginManager already has a request_loader: AuthJS needs to be its request "
                "loader (keep your user_loader for Flask-Login's own sessions)",
                "login_manager",
            )
        manager.request_loader(_load_user)

    def _blueprint(self, base_path: str) -> Blueprint:
        blueprint = Blueprint(BLUEPRINT, __name__, url_prefix=base_path)
        for path, method, handler, endpoint in ROUTES:
            blueprint.add_url_rule(path, endpoint, _view(handler), methods=[method])
        return blueprint

    # -- per request -------------------------------------------------------------------------

    @property
    def web(self) -> AuthWeb:
        """The current app's :class:`~peewee_authjs.web.AuthWeb`."""
        return _web()

    @property
    def sessions(self) -> SessionManager:
        """The current app's session manager (list, revoke, ...)."""
        return _web().sessions

    @property
    def current(self) -> RequestAuth:
        """This request's sign-in state."""
        return _state()

    @property
    def user(self) -> AdapterUser | None:
        """The signed-in user's record, or None (reads the session on first use)."""
        return _state().user

    @property
    def session(self) -> AdapterSession | None:
        """The request's session record, or None."""
        return _state().session

    def csrf_token(self) -> str:
        """The CSRF token for a form of your own (field ``csrfToken``; Jinja: ``authjs_csrf_token()``)."""
        return _state().csrf_token()

    def csrf_protect(self, view: F) -> F:
        """Refuse (403) a POST, PUT, PATCH or DELETE to ``view`` without this site's CSRF token
        (form field ``csrfToken`` or header ``X-CSRF-Token``)."""

        @wraps(view)
        def protected(*args: Any, **kwargs: Any) -> Any:
            if request.method not in ("GET", "HEAD", "OPTIONS"):
                auth = _state()
                submitted = _fields().get(CSRF_FIELD) or request.headers.get(CSRF_HEADER)
                if not auth.csrf_valid(submitted):
                    return _response(_web().csrf_refused(auth))
            return view(*args, **kwargs)

        return cast(F, protected)


def _web() -> AuthWeb:
    try:
        return cast(AuthWeb, current_app.extensions["authjs"])
    except KeyError:
        raise ConfigurationError("AuthJS.init_app(app) was not called for this app", "app") from None


_ENVIRON_KEY = "peewee_authjs.auth"


def _state() -> RequestAuth:
    # Kept in the WSGI environ, not in g: an app context may outlive one request (tests).
    auth = request.environ.get(_ENVIRON_KEY)
    if auth is None:
        auth = request.environ[_ENVIRON_KEY] = _web().begin(request.cookies, request.url_root)
    return cast(RequestAuth, auth)


def _load_user(_request: Any) -> User | None:
    record = _state().user
    return User(record) if record is not None else None


def _fields() -> dict[str, str]:
    if request.method != "POST":
        return {}
    if request.is_json:
        body = request.get_json(silent=True)
        if isinstance(body, dict):
            return {key: value for key, value in body.items() if isinstance(value, str)}
        return {}
    return {key: value for key, value in request.form.items()}


def _response(result: WebResponse) -> Response:
    response = Response(result.body, status=result.status, content_type=result.content_type)
    for name, value in result.headers.items():
        response.headers[name] = value
    if result.location is not None:
        response.headers["Location"] = result.location
    return response


def _view(handler: Callable[[AuthWeb, RequestAuth, WebRequest], WebResponse]) -> Callable[[], Response]:
    def view() -> Response:
        web_request = WebRequest(
            method=request.method,
            url_root=request.url_root,
            query={key: value for key, value in request.args.items()},
            form=_fields(),
            headers={CSRF_HEADER: request.headers.get(CSRF_HEADER, "")},
        )
        return _response(handler(_web(), _state(), web_request))

    view.__name__ = handler.__name__
    view.__doc__ = handler.__doc__
    return view


def _write_cookies(response: Response) -> Response:
    auth: RequestAuth | None = request.environ.get(_ENVIRON_KEY)
    if auth is None:
        return response
    for cookie in auth.outgoing.values():
        response.set_cookie(cookie.name, cookie.value, **cookie.set_cookie_options())
    if auth.session_token is not None or auth.outgoing:
        response.vary.add("Cookie")
    return response


def _close_connection(_exc: BaseException | None) -> None:
    web: AuthWeb | None = current_app.extensions.get("authjs")
    database = _database(web.adapter) if web is not None else None
    if database is not None and not database.is_closed() and not database.in_transaction():
        database.close()


__all__ = ["BLUEPRINT", "DEFAULTS", "AuthJS", "User"]
