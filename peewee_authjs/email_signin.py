"""E-mail sign-in with magic links, compatible with Auth.js's e-mail providers.

::

    from peewee_authjs.email_signin import EmailSignIn, SmtpLinkSender

    email = EmailSignIn(adapter, sessions, secret=SECRET, base_url="https://example.com",
                        send=SmtpLinkSender("smtp.example.com", sender="login@example.com"))
    email.send_link("Ada@Example.com")           # stores the token's hash, mails the link
    # GET  /auth/callback/email?token=...&email=...   ->  email.check(email, token): show a confirm form
    # POST /auth/callback/email                       ->  user, session = email.sign_in(email, token)

The rules are those of ``@auth/core`` (``signin/send-token.ts``, ``callback/index.ts``):

- the address is normalised as Auth.js's default normaliser does (:func:`normalize_email`);
- the link carries a raw token of 32 random bytes in hex; the table stores only
  ``sha256(token + secret)`` (hex), so a Next.js app with the same secret accepts
  links made here and the other way round;
- a link lives 24 hours and works once; one expiring exactly now still works;
- using it marks an existing user's address verified, or creates the user with the
  address verified, and starts a new database session. No ``accounts`` row is written.

Mail scanners open links to look at them. A GET must therefore only :meth:`EmailSignIn.check`
the link and show a page with a button; only the POST of that button consumes it
(:meth:`EmailSignIn.sign_in`). Auth.js consumes on GET; this is the one deliberate difference.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import smtplib
import ssl
import unicodedata
from collections.abc import Callable
from datetime import timedelta
from email.message import EmailMessage
from urllib.parse import urlencode
from urllib.parse import urlsplit

from peewee_authjs.adapter import PeeweeAdapter
from peewee_authjs.contract import AdapterSession
from peewee_authjs.contract import AdapterUser
from peewee_authjs.errors import DuplicateError
from peewee_authjs.errors import InvalidInputError
from peewee_authjs.errors import VerificationError
from peewee_authjs.queries import Queries
from peewee_authjs.queries import database_errors
from peewee_authjs.queries import expired_before
from peewee_authjs.queries import write_transaction
from peewee_authjs.sessions import SessionManager
from peewee_authjs.statements import slot
from peewee_authjs.validation import check_text

logger = logging.getLogger("peewee_authjs.email")

#: What JavaScript's ``String.prototype.trim`` removes (Python's ``str.strip`` differs slightly).
_JS_WHITESPACE = (
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000\ufeff"
)
_MAX_EMAIL_CHARS = 255

#: Sends a sign-in link: ``send(email, url)``. Raising makes :meth:`EmailSignIn.send_link` fail
#: and forget the link.
LinkSender = Callable[[str, str], None]


def normalize_email(address: str) -> str:
    """The address as Auth.js's default normaliser makes it, or InvalidInputError (field ``email``).

    NFKC-normalised, lowercased and trimmed; refused when it holds a ``"``, has not
    exactly one ``@``, or has an empty part before or after it; in the domain,
    anything from the first ``,`` on is dropped (``a@b.com,c@d.com`` -> ``a@b.com``).
    """
    if not isinstance(address, str) or not address:
        raise InvalidInputError("email: missing", "email")
    email = unicodedata.normalize("NFKC", address).lower().strip(_JS_WHITESPACE)
    if '"' in email:
        raise InvalidInputError("email: must not contain '\"'", "email")
    parts = email.split("@")
    if len(parts) != 2:
        raise InvalidInputError("email: must contain exactly one '@'", "email")
    local, domain = parts[0], parts[1].split(",")[0]
    if not local or not domain:
        raise InvalidInputError("email: empty before or after '@'", "email")
    email = f"{local}@{domain}"
    if len(email) > _MAX_EMAIL_CHARS or "\x00" in email:
        raise InvalidInputError(f"email: longer than {_MAX_EMAIL_CHARS} characters or holds NUL", "email")
    return email


def safe_callback_url(url: str | None, base_url: str) -> str:
    """Where to send the browser after sign-in: Auth.js's default ``redirect`` callback.

    A path (``/account``) is taken on the site's origin; an absolute URL is kept only
    when its origin (scheme and host, port included) is the site's; anything else,
    including nothing, gives ``base_url``. Use it on every ``callbackUrl`` that came
    from a request, so sign-in never becomes an open redirect.
    """
    base = urlsplit(base_url)
    origin = f"{base.scheme.lower()}://{base.netloc.lower()}"
    if not isinstance(url, str) or not url or any(ch.isspace() or ord(ch) < 32 for ch in url):
        return base_url
    if url.startswith("/"):
        return origin + url
    try:
        parts = urlsplit(url)
    except ValueError:
        return base_url
    if f"{parts.scheme.lower()}://{parts.netloc.lower()}" == origin:
        return url
    return base_url


def hash_token(raw_token: str, secret: str) -> str:
    """What the table stores for a link's raw token: ``sha256(raw_token + secret)`` as lowercase hex
    (Auth.js's ``createHash(`${token}${secret}`)``)."""
    return hashlib.sha256((raw_token + secret).encode("utf-8")).hexdigest()


def generate_token() -> str:
    """A new raw link token: 32 random bytes as 64 lowercase hex digits (Auth.js's ``randomString(32)``)."""
    return secrets.token_hex(32)


def log_link_sender(email: str, url: str) -> None:
    """Development only: log the sign-in link (WARNING, logger ``peewee_authjs.email``) instead of mailing it.

    This is the one place where peewee-authjs writes a raw token anywhere: whoever
    reads the log can sign in as ``email``. :class:`EmailSignIn` uses it when no
    ``send`` is given and says so in the log when it is created; pass a real sender
    (e.g. :class:`SmtpLinkSender`) in production.
    """
    logger.warning("sign-in link for %s (development sender, do not use in production): %s", email, url)


class SmtpLinkSender:
    """Mails sign-in links with :mod:`smtplib`.

    :param host: the SMTP server; ``port`` 587 with STARTTLS by default.
    :param sender: the ``From`` address.
    :param username: log in with this user and ``password`` when given.
    :param starttls: upgrade the connection with STARTTLS (certificate verified).
    :param use_ssl: connect with TLS from the start (``SMTP_SSL``, usually port 465) instead.
    :param subject: the mail's subject; the body is a short text with the link.
    """

    def __init__(
        self,
        host: str,
        port: int = 587,
        *,
        sender: str,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = True,
        use_ssl: bool = False,
        subject: str = "Sign in",
        timeout: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.username = username
        self._password = password
        self.starttls = starttls and not use_ssl
        self.use_ssl = use_ssl
        self.subject = subject
        self.timeout = timeout
        self.ssl_context = ssl_context

    def __repr__(self) -> str:
        return f"<SmtpLinkSender {self.host}:{self.port} from {self.sender}>"

    def message(self, email: str, url: str) -> EmailMessage:
        """The mail that carries ``url`` to ``email``."""
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = email
        message["Subject"] = self.subject
        message.set_content(
            f"Sign in by opening this link:\n\n{url}\n\n"
            "If you did not ask for it, ignore this mail: nobody can sign in without the link.\n"
        )
        return message

    def __call__(self, email: str, url: str) -> None:
        """Send the link; smtplib's errors propagate."""
        context = self.ssl_context or ssl.create_default_context()
        client: smtplib.SMTP
        if self.use_ssl:
            client = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with client:
            if self.starttls:
                client.starttls(context=context)
            if self.username is not None:
                client.login(self.username, self._password or "")
            client.send_message(self.message(email, url))


class EmailSignIn:
    """Magic-link sign-in over an adapter and a :class:`~peewee_authjs.sessions.SessionManager`.

    :param secret: the secret mixed into the stored hash (Auth.js's ``AUTH_SECRET``);
        use the Next.js app's to share links with it.
    :param base_url: the site's origin (and base path), e.g. ``https://example.com``.
    :param send: delivers a link, ``send(email, url)``; the default logs it (development).
    :param max_age: how long a link works (Auth.js: 24 hours).
    :param callback_path: the path of the link's callback route under ``base_url``
        (Auth.js: ``/auth/callback/email``; next-auth v5: ``/api/auth/callback/email``).

    The clock is the session manager's.
    """

    def __init__(
        self,
        adapter: PeeweeAdapter,
        sessions: SessionManager,
        *,
        secret: str,
        base_url: str,
        send: LinkSender = log_link_sender,
        max_age: timedelta = timedelta(hours=24),
        callback_path: str = "/auth/callback/email",
    ) -> None:
        if not isinstance(secret, str) or not secret:
            raise InvalidInputError("secret: a non-empty string is required", "secret")
        if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
            raise InvalidInputError("base_url: must be an http(s) URL", "base_url")
        if not isinstance(max_age, timedelta) or max_age <= timedelta(0):
            raise InvalidInputError("max_age: must be a positive timedelta", "max_age")
        self.adapter = adapter
        self.sessions = sessions
        self._secret = secret
        self.base_url = base_url.rstrip("/")
        self.send = send
        self.max_age = max_age
        self.callback_path = "/" + callback_path.lstrip("/")
        self._queries = Queries(adapter)
        if send is log_link_sender:
            logger.warning(
                "EmailSignIn sends no mail: sign-in links are written to the log (development only; "
                "pass send=SmtpLinkSender(...) or your own sender in production)"
            )

    def __repr__(self) -> str:
        return f"<EmailSignIn {self.base_url}{self.callback_path}>"

    @property
    def callback_url(self) -> str:
        """The absolute URL of the link's callback route."""
        return self.base_url + self.callback_path

    def link(self, email: str, raw_token: str, callback_url: str | None = None) -> str:
        """The sign-in link for ``email`` (already normalised) and a raw token, in Auth.js's format:
        ``<callback>?callbackUrl=...&token=...&email=...``; ``callbackUrl`` is ``callback_url``
        made safe (:func:`safe_callback_url`), ``base_url`` by default."""
        target = safe_callback_url(callback_url, self.base_url)
        query = urlencode({"callbackUrl": target, "token": raw_token, "email": email})
        return f"{self.callback_url}?{query}"

    def send_link(self, email: str, callback_url: str | None = None) -> str:
        """Make a link for ``email``, store its hashed token and send it; the normalised address.

        Raises InvalidInputError for an address :func:`normalize_email` refuses. When
        ``send`` raises, the stored token is deleted again and the error propagates.
        """
        identifier = normalize_email(email)
        raw = generate_token()
        hashed = hash_token(raw, self._secret)
        self.adapter.create_verification_token(
            {"identifier": identifier, "token": hashed, "expires": self.sessions.now() + self.max_age}
        )
        try:
            self.send(identifier, self.link(identifier, raw, callback_url))
        except BaseException:
            self.adapter.use_verification_token(identifier, hashed)
            raise
        return identifier

    def _hashed(self, token: object) -> str | None:
        if not isinstance(token, str) or not token:
            return None
        try:
            return hash_token(token, self._secret)
        except UnicodeEncodeError:  # a lone surrogate (JSON can carry one): no link has it
            return None

    def check(self, email: str | None, token: str) -> bool:
        """Whether the link's ``token`` (for ``email``, when given) is known and unexpired.

        Reads only: the link still works afterwards. For the GET of the link, which mail
        scanners may fetch; the address is compared exactly, as Auth.js does.
        """
        hashed = self._hashed(token)
        if hashed is None or (email is not None and not isinstance(email, str)):
            return False
        if email is not None:
            try:  # a NUL (PostgreSQL refuses it), a lone surrogate, too long: no row holds it
                check_text(email, "email", _MAX_EMAIL_CHARS)
            except InvalidInputError:
                return False
        V = self.adapter.models.VerificationToken
        live = (V.token == slot("token")) & (V.expires >= slot("now"))
        params = {"token": hashed, "now": V.expires.db_value(self.sessions.now()), "identifier": email}
        if email is None:
            statement = self._queries.get("link_is_live", lambda: V.select(V.token).where(live), ["token"])
        else:
            statement = self._queries.get(
                "link_is_live_for",
                lambda: V.select(V.token).where(live & (V.identifier == slot("identifier"))),
                ["token"],
            )
        with database_errors(self.adapter, "check"):
            return statement.fetch_one(self._queries.database(), params) is not None

    def sign_in(
        self, email: str | None, token: str, *, session_token: str | None = None
    ) -> tuple[AdapterUser, AdapterSession]:
        """Consume the link and sign its address in; the user and the new session.

        In one transaction: the token is deleted (single use, atomic against concurrent
        uses); the user with that address gets ``email_verified = now``, or is created so;
        a session is started. Raises :class:`VerificationError` for an unknown, used or
        tampered token, a token of another address (that token stays usable), or an
        expired one (deleted all the same, as Auth.js does).

        :param session_token: the request's current session token, if any: when it
            belongs to another user, that session is ended (Auth.js does the same).
        """
        hashed = self._hashed(token)
        if hashed is None or (email is not None and not isinstance(email, str)):
            raise VerificationError("sign-in link: no valid token", "unknown")
        try:
            return self._consume(email, hashed, session_token)
        except DuplicateError:
            # A concurrent sign-in (another link for the same new address) created the user
            # first; ours was rolled back whole, the token included. Once more, in a new
            # transaction that sees that user.
            return self._consume(email, hashed, session_token)

    def _consume(
        self, email: str | None, hashed: str, session_token: str | None
    ) -> tuple[AdapterUser, AdapterSession]:
        expired = False
        with write_transaction(self.adapter):
            invite = self.adapter.use_verification_token(email, hashed)
            if invite is None:
                raise VerificationError("sign-in link: unknown, used or not for this address", "unknown")
            if invite["expires"] < self.sessions.now():
                expired = True  # commit the deletion, then refuse
            else:
                user = self._verified_user(invite["identifier"], session_token)
                session = self.sessions.start(user["id"])
        if expired:
            raise VerificationError("sign-in link: expired", "expired")
        return user, session

    def _verified_user(self, identifier: str, session_token: str | None) -> AdapterUser:
        """The user with this address, marked verified now; created so when there is none."""
        adapter = self.adapter
        now = self.sessions.now()
        user = adapter.get_user_by_email(identifier)
        if user is None:
            return adapter.create_user({"email": identifier, "email_verified": now})
        if session_token:
            current = adapter.get_session_and_user(session_token)
            if current is not None and current["user"]["id"] != user["id"]:
                adapter.delete_session(session_token)
        updated = adapter.update_user({"id": user["id"], "email_verified": now})
        return updated if updated is not None else user

    def purge_expired(self) -> int:
        """Delete every expired link token (housekeeping); how many."""
        V = self.adapter.models.VerificationToken
        statement = self._queries.get(
            "purge_links",
            lambda: V.delete().where(expired_before(V.expires, slot("now"), self._queries.database())),
        )
        with database_errors(self.adapter, "purge_expired"):
            return statement.run(self._queries.database(), {"now": V.expires.db_value(self.sessions.now())})


__all__ = [
    "EmailSignIn",
    "LinkSender",
    "SmtpLinkSender",
    "generate_token",
    "hash_token",
    "log_link_sender",
    "normalize_email",
    "safe_callback_url",
]
