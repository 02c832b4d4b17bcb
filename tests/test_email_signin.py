"""E-mail magic-link sign-in (peewee_authjs.email_signin): Auth.js's normalisation, token hashing,
link format and callback rules at their boundaries, plus the GET-checks/POST-consumes split."""

from __future__ import annotations

import email
import logging
import socketserver
import threading
from collections.abc import Iterator
from datetime import timedelta
from datetime import timezone
from email.message import Message
from typing import Any
from urllib.parse import parse_qsl
from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from peewee_authjs import PeeweeAdapter
from peewee_authjs.email_signin import EmailSignIn
from peewee_authjs.email_signin import SmtpLinkSender
from peewee_authjs.email_signin import generate_token
from peewee_authjs.email_signin import hash_token
from peewee_authjs.email_signin import log_link_sender
from peewee_authjs.email_signin import normalize_email
from peewee_authjs.email_signin import safe_callback_url
from peewee_authjs.errors import InvalidInputError
from peewee_authjs.errors import VerificationError
from peewee_authjs.sessions import DEFAULT_MAX_AGE
from peewee_authjs.sessions import SessionManager
from tests.clock import START
from tests.clock import Clock
from tests.helpers import count
from tests.helpers import rows

SECRET = "s3cr3t-shared-with-next"
BASE = "https://app.example.com"
MS = timedelta(milliseconds=1)
DAY = timedelta(hours=24)


class Outbox:
    """A LinkSender that keeps what it was asked to send."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def __call__(self, address: str, url: str) -> None:
        self.sent.append((address, url))

    def last(self) -> tuple[str, str, str]:
        """The last link's (email param, token param, url)."""
        address, url = self.sent[-1]
        query = dict(parse_qsl(urlsplit(url).query))
        return query["email"], query["token"], url


@pytest.fixture
def outbox() -> Outbox:
    return Outbox()


@pytest.fixture
def signin(adapter: PeeweeAdapter, sessions: SessionManager, outbox: Outbox) -> EmailSignIn:
    return EmailSignIn(adapter, sessions, secret=SECRET, base_url=BASE, send=outbox)


# -- normalize_email -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given_address", "expected"),
    [
        ("Ada@Example.COM", "ada@example.com"),
        ("  ada@example.com\n", "ada@example.com"),
        ("\ufeffada@example.com\u00a0", "ada@example.com"),  # JS trim() removes BOM and NBSP
        ("ａｄａ@ｅｘａｍｐｌｅ.ｃｏｍ", "ada@example.com"),  # fullwidth: NFKC
        ("ada@example.com,evil.com", "ada@example.com"),  # cut the domain at ','
        ("ada,eve@example.com", "ada,eve@example.com"),  # a ',' before '@' stays
        ("ÀDA@exämple.com", "àda@exämple.com"),
    ],
)
def test_normalize_email_follows_authjs(given_address: str, expected: str) -> None:
    """NFKC, lowercase, JS-trim, and the domain cut at the first ','."""
    assert normalize_email(given_address) == expected


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "   ",
        "ada.example.com",
        "ada@@example.com",
        "a@b@example.com",
        "ada@example.com,eve@evil.com",  # two addresses: two '@'
        '"ada"@example.com',
        "@example.com",
        "ada@",
        "ada@,x.com",
        42,
        None,
    ],
)
def test_normalize_email_refuses_malformed(bad: object) -> None:
    """No '@', more than one, a '"', an empty side, or not a string: InvalidInputError on 'email'."""
    with pytest.raises(InvalidInputError) as info:
        normalize_email(bad)  # type: ignore[arg-type]
    assert info.value.field == "email"


@given(st.text(min_size=1, max_size=40), st.text(min_size=1, max_size=40))
def test_normalize_email_properties(local: str, domain: str) -> None:
    """Whatever it accepts has one '@', no '"', no ',' in the domain, no outer whitespace and no
    upper case left, and normalising it again changes nothing; the rest raises InvalidInputError."""
    try:
        result = normalize_email(f"{local}@{domain}")
    except InvalidInputError:
        return
    result_local, _, result_domain = result.partition("@")
    assert result.count("@") == 1 and '"' not in result and "," not in result_domain
    assert result_local and result_domain
    assert result == result.strip(" \t\n\r")
    assert result.lower() == result
    assert normalize_email(result) == result


# -- tokens ----------------------------------------------------------------------------------


def test_hash_token_is_sha256_of_token_then_secret() -> None:
    """The stored value is sha256(raw + secret) in lowercase hex (vectors from `sha256sum`)."""
    assert (
        hash_token("abc123", "s3cr3t") == "a81733511e1b41c5c817c375934e58e3f987eee44c3be7c7f4e17eb23912a48b"
    )
    raw = "0123456789abcdef" * 4
    assert hash_token(raw, "secret") == "ad9289a05f4c424c9c257a05dc3cae4ff7e3b5879eb29156c695cff8cf9f3291"


def test_generate_token_is_32_random_bytes_in_hex() -> None:
    """A raw token is 64 lowercase hex digits, different each time."""
    tokens = {generate_token() for _ in range(50)}
    assert len(tokens) == 50
    for token in tokens:
        assert len(token) == 64 and int(token, 16) >= 0 and token == token.lower()


# -- configuration -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"secret": ""}, "secret"),
        ({"base_url": "app.example.com"}, "base_url"),
        ({"max_age": timedelta(0)}, "max_age"),
    ],
)
def test_bad_settings_are_refused(
    adapter: PeeweeAdapter, sessions: SessionManager, kwargs: dict[str, object], field: str
) -> None:
    """An empty secret, a base URL without scheme or a non-positive lifetime are refused, named."""
    settings: dict[str, object] = {"secret": SECRET, "base_url": BASE, "send": Outbox()}
    settings.update(kwargs)
    with pytest.raises(InvalidInputError) as info:
        EmailSignIn(adapter, sessions, **settings)  # type: ignore[arg-type]
    assert info.value.field == field


# -- send_link -------------------------------------------------------------------------------


def test_send_link_stores_the_hash_and_sends_the_authjs_link(
    adapter: PeeweeAdapter, signin: EmailSignIn, outbox: Outbox
) -> None:
    """The link is <base><callback>?callbackUrl&token&email; only sha256(token+secret) is stored,
    for the normalised address, expiring 24 h later."""
    assert (
        signin.send_link("  Ada@Example.com ", callback_url="https://app.example.com/account")
        == "ada@example.com"
    )
    address, url = outbox.sent[0]
    assert address == "ada@example.com"
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://app.example.com/auth/callback/email"
    query = parse_qsl(parts.query)
    assert [key for key, _ in query] == ["callbackUrl", "token", "email"]
    params = dict(query)
    assert params["callbackUrl"] == "https://app.example.com/account"
    assert params["email"] == "ada@example.com"
    assert len(params["token"]) == 64
    stored = rows(adapter.database, "SELECT token, identifier FROM verification_tokens")
    assert stored == [{"token": hash_token(params["token"], SECRET), "identifier": "ada@example.com"}]
    assert params["token"] not in str(stored)
    row = adapter.use_verification_token("ada@example.com", hash_token(params["token"], SECRET))
    assert row is not None and row["expires"] == START + DAY


def test_send_link_defaults_callback_url_and_honours_callback_path(
    adapter: PeeweeAdapter, sessions: SessionManager, outbox: Outbox
) -> None:
    """Without callback_url the link points back to base_url; next-auth's /api/auth path can be set."""
    signin = EmailSignIn(
        adapter,
        sessions,
        secret=SECRET,
        base_url=BASE + "/",
        send=outbox,
        callback_path="/api/auth/callback/email",
    )
    signin.send_link("ada@example.com")
    url = outbox.sent[0][1]
    assert url.startswith(
        "https://app.example.com/api/auth/callback/email?callbackUrl=https%3A%2F%2Fapp.example.com&"
    )


def test_send_link_refuses_bad_addresses_and_stores_nothing(
    adapter: PeeweeAdapter, signin: EmailSignIn, outbox: Outbox
) -> None:
    """An address the normaliser refuses raises before anything is stored or sent."""
    with pytest.raises(InvalidInputError):
        signin.send_link("not an address")
    assert count(adapter.database, "verification_tokens") == 0 and outbox.sent == []


def test_failed_send_forgets_the_token(adapter: PeeweeAdapter, sessions: SessionManager) -> None:
    """When the sender raises, the error propagates and the stored token is deleted again."""

    def broken(address: str, url: str) -> None:
        raise OSError("mail server down")

    signin = EmailSignIn(adapter, sessions, secret=SECRET, base_url=BASE, send=broken)
    with pytest.raises(OSError):
        signin.send_link("ada@example.com")
    assert count(adapter.database, "verification_tokens") == 0


# -- check (GET) ---------------------------------------------------------------------------------


def test_check_does_not_consume(adapter: PeeweeAdapter, signin: EmailSignIn, outbox: Outbox) -> None:
    """A GET (a mail scanner, a preview) may check the link any number of times; it still works after."""
    signin.send_link("ada@example.com")
    address, token, _ = outbox.last()
    for _ in range(3):
        assert signin.check(address, token) is True
        assert signin.check(None, token) is True
    assert count(adapter.database, "verification_tokens") == 1
    user, _session = signin.sign_in(address, token)
    assert user["email"] == "ada@example.com"


def test_check_refuses_wrong_email_tampered_and_unknown(signin: EmailSignIn, outbox: Outbox) -> None:
    """The wrong address, one changed hex digit, another secret's hash or nothing at all: False."""
    signin.send_link("ada@example.com")
    address, token, _ = outbox.last()
    tampered = token[:-1] + ("0" if token[-1] != "0" else "1")
    assert signin.check("eve@example.com", token) is False
    assert signin.check("ADA@example.com", token) is False  # compared exactly, as Auth.js does
    assert signin.check(address, tampered) is False
    assert signin.check(address, hash_token(token, SECRET)) is False  # the stored hash is not a token
    assert signin.check(address, "") is False


@pytest.mark.parametrize("address", ["ada@example.com\x00", "\ud800@example.com", "a" * 300 + "@example.com"])
def test_check_of_an_address_no_row_can_hold_is_false(
    signin: EmailSignIn, outbox: Outbox, address: str
) -> None:
    """The link's GET passes its ``email=`` straight to check(): an address with a NUL (which
    PostgreSQL refuses in a query), a lone surrogate or longer than the column is False, not an error."""
    signin.send_link("ada@example.com")
    _address, token, _ = outbox.last()
    assert signin.check(address, token) is False
    assert signin.check("ada@example.com", token) is True


def test_check_expiry_boundary(signin: EmailSignIn, outbox: Outbox, clock: Clock) -> None:
    """A link is valid up to and including its expiry instant, invalid a millisecond after."""
    signin.send_link("ada@example.com")
    address, token, _ = outbox.last()
    clock.advance(DAY)
    assert signin.check(address, token) is True
    clock.advance(MS)
    assert signin.check(address, token) is False


# -- sign_in (POST) --------------------------------------------------------------------------


def test_sign_in_creates_a_verified_user_and_a_session(
    adapter: PeeweeAdapter, signin: EmailSignIn, outbox: Outbox, clock: Clock
) -> None:
    """A new address becomes a user with email_verified = now, a session starts, the token is gone,
    and no accounts row is written (Auth.js writes none for e-mail)."""
    signin.send_link("Ada@Example.com")
    address, token, _ = outbox.last()
    now = clock.advance(timedelta(minutes=5))
    user, session = signin.sign_in(address, token)
    assert user["email"] == "ada@example.com" and user["email_verified"] == now
    assert session["user_id"] == user["id"] and session["expires"] == now + DEFAULT_MAX_AGE
    assert signin.sessions.read(session["session_token"]) is not None
    assert count(adapter.database, "verification_tokens") == 0
    assert count(adapter.database, "accounts") == 0
    assert count(adapter.database, "users") == 1


def test_sign_in_of_an_existing_user_updates_email_verified(
    adapter: PeeweeAdapter, signin: EmailSignIn, outbox: Outbox, clock: Clock
) -> None:
    """An existing user is reused (no second user), their email_verified set to now."""
    existing = adapter.create_user({"email": "ada@example.com", "name": "Ada"})
    signin.send_link("ada@example.com")
    address, token, _ = outbox.last()
    now = clock.advance(timedelta(hours=1))
    user, session = signin.sign_in(address, token)
    assert user["id"] == existing["id"] and user["name"] == "Ada" and user["email_verified"] == now
    assert adapter.get_user(existing["id"])["email_verified"] == now  # type: ignore[index]
    assert count(adapter.database, "users") == 1
    assert session["user_id"] == existing["id"]


def test_link_works_once(adapter: PeeweeAdapter, signin: EmailSignIn, outbox: Outbox) -> None:
    """The second use of a link (double click, replay) is a VerificationError and writes nothing."""
    signin.send_link("ada@example.com")
    address, token, _ = outbox.last()
    signin.sign_in(address, token)
    with pytest.raises(VerificationError) as info:
        signin.sign_in(address, token)
    assert info.value.reason == "unknown"
    assert count(adapter.database, "sessions") == 1


def test_wrong_email_is_refused_and_leaves_the_link_usable(
    adapter: PeeweeAdapter, signin: EmailSignIn, outbox: Outbox
) -> None:
    """A link's token with another address is refused; nobody is created; the real owner can still use it."""
    signin.send_link("ada@example.com")
    address, token, _ = outbox.last()
    with pytest.raises(VerificationError):
        signin.sign_in("eve@example.com", token)
    assert count(adapter.database, "users") == 0
    assert count(adapter.database, "verification_tokens") == 1
    user, _ = signin.sign_in(address, token)
    assert user["email"] == "ada@example.com"


@pytest.mark.parametrize("kind", ["tampered", "unknown", "empty", "hash", "other-secret"])
def test_tampered_or_unknown_tokens_are_refused(
    adapter: PeeweeAdapter, sessions: SessionManager, signin: EmailSignIn, outbox: Outbox, kind: str
) -> None:
    """A changed digit, a made-up token, an empty one, the stored hash itself, or a link made with
    another secret: VerificationError, nothing written, the real link untouched."""
    signin.send_link("ada@example.com")
    address, token, _ = outbox.last()
    if kind == "other-secret":
        other = Outbox()
        EmailSignIn(adapter, sessions, secret="another-secret", base_url=BASE, send=other).send_link(address)
        candidate = other.last()[1]
    else:
        candidate = {
            "tampered": token[:10] + ("a" if token[10] != "a" else "b") + token[11:],
            "unknown": generate_token(),
            "empty": "",
            "hash": hash_token(token, SECRET),
        }[kind]
    before = count(adapter.database, "verification_tokens")
    with pytest.raises(VerificationError):
        signin.sign_in(address, candidate)
    assert count(adapter.database, "users") == 0 and count(adapter.database, "sessions") == 0
    assert count(adapter.database, "verification_tokens") == before
    assert signin.check(address, token) is True


def test_expired_link_is_refused_and_deleted(
    adapter: PeeweeAdapter, signin: EmailSignIn, outbox: Outbox, clock: Clock
) -> None:
    """A millisecond past its expiry a link is refused ('expired') and, as in Auth.js, deleted."""
    signin.send_link("ada@example.com")
    address, token, _ = outbox.last()
    clock.advance(DAY + MS)
    with pytest.raises(VerificationError) as info:
        signin.sign_in(address, token)
    assert info.value.reason == "expired"
    assert count(adapter.database, "verification_tokens") == 0
    assert count(adapter.database, "users") == 0 and count(adapter.database, "sessions") == 0


def test_link_used_exactly_at_its_expiry_works(signin: EmailSignIn, outbox: Outbox, clock: Clock) -> None:
    """Expiry is 'expires < now': at the expiry instant the link still signs in."""
    signin.send_link("ada@example.com")
    address, token, _ = outbox.last()
    clock.advance(DAY)
    user, _ = signin.sign_in(address, token)
    assert user["email"] == "ada@example.com"


def test_sign_in_without_email_param_matches_on_the_token(signin: EmailSignIn, outbox: Outbox) -> None:
    """Links without email= (Auth.js passes identifier undefined) are matched on the token alone."""
    signin.send_link("ada@example.com")
    _, token, _ = outbox.last()
    user, _ = signin.sign_in(None, token)
    assert user["email"] == "ada@example.com"


def test_sign_in_ends_the_session_of_another_signed_in_user(
    adapter: PeeweeAdapter, signin: EmailSignIn, outbox: Outbox, sessions: SessionManager
) -> None:
    """As in Auth.js: signing in as an existing user ends the browser's session of a different user;
    a session of the same user is left alone."""
    ada = adapter.create_user({"email": "ada@example.com"})
    bob = adapter.create_user({"email": "bob@example.com"})
    bobs = sessions.start(bob["id"])
    adas = sessions.start(ada["id"])
    signin.send_link("ada@example.com")
    address, token, _ = outbox.last()
    signin.sign_in(address, token, session_token=bobs["session_token"])
    assert sessions.read(bobs["session_token"]) is None
    signin.send_link("ada@example.com")
    address, token, _ = outbox.last()
    signin.sign_in(address, token, session_token=adas["session_token"])
    assert sessions.read(adas["session_token"]) is not None


def test_concurrent_uses_of_one_link_sign_in_once(
    adapter: PeeweeAdapter, signin: EmailSignIn, outbox: Outbox
) -> None:
    """Two simultaneous POSTs of the same link: exactly one signs in, the other gets VerificationError."""
    signin.send_link("ada@example.com")
    address, token, _ = outbox.last()
    barrier = threading.Barrier(2)
    results: list[str] = []

    def use() -> None:
        barrier.wait()
        try:
            signin.sign_in(address, token)
            results.append("ok")
        except VerificationError:
            results.append("refused")
        finally:
            adapter.database.close()

    threads = [threading.Thread(target=use) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(results) == ["ok", "refused"]
    assert count(adapter.database, "users") == 1 and count(adapter.database, "sessions") == 1


def test_purge_expired_links(adapter: PeeweeAdapter, signin: EmailSignIn, clock: Clock) -> None:
    """Housekeeping deletes links past their expiry only."""
    signin.send_link("ada@example.com")
    clock.advance(timedelta(hours=12))
    signin.send_link("bob@example.com")
    clock.advance(timedelta(hours=12))
    assert signin.purge_expired() == 0
    clock.advance(MS)
    assert signin.purge_expired() == 1
    assert rows(adapter.database, "SELECT identifier FROM verification_tokens") == [
        {"identifier": "bob@example.com"}
    ]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_purge_expired_links_reads_sqlite_dates_written_with_an_offset(
    adapter: PeeweeAdapter, signin: EmailSignIn, clock: Clock
) -> None:
    """A live link whose expiry text has a negative offset (sorting before now's text) is kept."""
    signin.send_link("ada@example.com")
    later = clock() + timedelta(hours=1)
    text = later.astimezone(timezone(timedelta(hours=-5))).isoformat(" ", "milliseconds")
    adapter.database.execute_sql("UPDATE verification_tokens SET expires = ?", (text,))
    assert signin.purge_expired() == 0
    clock.advance(timedelta(hours=1, milliseconds=1))
    assert signin.purge_expired() == 1


# -- what gets logged ----------------------------------------------------------------------------


def test_raw_tokens_reach_no_log_but_the_development_sender(
    adapter: PeeweeAdapter, signin: EmailSignIn, outbox: Outbox, caplog: pytest.LogCaptureFixture
) -> None:
    """Sending, checking and consuming a link log SQL only: neither the raw token, nor its hash,
    nor the session token appear."""
    with caplog.at_level(logging.DEBUG):
        signin.send_link("ada@example.com")
        address, token, _ = outbox.last()
        signin.check(address, token)
        _, session = signin.sign_in(address, token)
    assert "verification_tokens" in caplog.text
    for secret in (token, hash_token(token, SECRET), session["session_token"], SECRET):
        assert secret not in caplog.text


def test_log_link_sender_is_loud_and_the_default(
    adapter: PeeweeAdapter, sessions: SessionManager, caplog: pytest.LogCaptureFixture
) -> None:
    """Without a sender, EmailSignIn warns that links go to the log, and the link is logged at WARNING
    on 'peewee_authjs.email' (the one place a raw token is written)."""
    with caplog.at_level(logging.WARNING, logger="peewee_authjs.email"):
        signin = EmailSignIn(adapter, sessions, secret=SECRET, base_url=BASE)
        assert signin.send is log_link_sender
        signin.send_link("ada@example.com")
    records = [r for r in caplog.records if r.name == "peewee_authjs.email"]
    assert records[0].levelno == logging.WARNING and "development" in records[0].getMessage()
    link = records[-1].getMessage()
    assert "https://app.example.com/auth/callback/email?" in link and "ada%40example.com" in link


# -- SmtpLinkSender against a loopback SMTP server -----------------------------------------------


class _SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP (RFC 5321) for smtplib: EHLO, MAIL, RCPT, DATA, QUIT."""

    def write(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        server: _SMTPServer = self.server  # type: ignore[assignment]
        self.write("220 localhost test SMTP")
        envelope: dict[str, object] = {"rcpt": []}
        while True:
            line = self.rfile.readline().decode().rstrip("\r\n")
            verb = line.split(" ")[0].upper()
            if verb in ("EHLO", "HELO"):
                self.write("250-localhost")
                self.write("250 8BITMIME")
            elif verb == "MAIL":
                envelope["from"] = line
                self.write("250 OK")
            elif verb == "RCPT":
                envelope["rcpt"].append(line)  # type: ignore[attr-defined]
                self.write("250 OK")
            elif verb == "DATA":
                self.write("354 go ahead")
                data = b""
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    data += chunk[1:] if chunk.startswith(b"..") else chunk  # undo dot-stuffing
                envelope["data"] = data
                server.received.append(envelope)
                self.write("250 queued")
            elif verb == "QUIT" or not line:
                self.write("221 bye")
                return
            else:
                self.write("250 OK")


class _SMTPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _SMTPHandler)
        self.received: list[dict[str, object]] = []


@pytest.fixture
def smtp_server() -> Iterator[_SMTPServer]:
    server = _SMTPServer()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def test_smtp_link_sender_mails_the_link(smtp_server: _SMTPServer) -> None:
    """SmtpLinkSender delivers one mail to the address, from the sender, whose body holds the link."""
    port = smtp_server.server_address[1]
    send = SmtpLinkSender(
        "127.0.0.1", port, sender="login@app.example.com", starttls=False, subject="Your link"
    )
    url = "https://app.example.com/auth/callback/email?token=abc&email=ada%40example.com"
    send("ada@example.com", url)
    assert len(smtp_server.received) == 1
    envelope = smtp_server.received[0]
    assert "ada@example.com" in str(envelope["rcpt"]) and "login@app.example.com" in str(envelope["from"])
    message: Message = email.message_from_bytes(envelope["data"])  # type: ignore[arg-type]
    assert message["To"] == "ada@example.com" and message["Subject"] == "Your link"
    assert url in message.get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert "password" not in repr(send)


def test_smtp_link_sender_errors_propagate_and_forget_the_token(
    adapter: PeeweeAdapter, sessions: SessionManager
) -> None:
    """An unreachable mail server makes send_link fail and leaves no usable token behind."""
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    send = SmtpLinkSender("127.0.0.1", port, sender="login@app.example.com", starttls=False, timeout=5)
    signin = EmailSignIn(adapter, sessions, secret=SECRET, base_url=BASE, send=send)
    with pytest.raises(OSError):
        signin.send_link("ada@example.com")
    assert count(adapter.database, "verification_tokens") == 0


# -- callbackUrl -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/account", "https://app.example.com/account"),
        ("/account?tab=sessions#top", "https://app.example.com/account?tab=sessions#top"),
        ("https://app.example.com/x", "https://app.example.com/x"),
        ("HTTPS://APP.example.com/x", "HTTPS://APP.example.com/x"),
        ("https://evil.example/x", BASE),
        ("//evil.example/x", "https://app.example.com//evil.example/x"),  # a path on our origin
        ("https://app.example.com@evil.example/", BASE),
        ("https://app.example.com.evil.example/", BASE),
        ("http://app.example.com/x", BASE),  # another scheme is another origin
        ("https://app.example.com:8443/x", BASE),
        ("javascript:alert(1)", BASE),
        ("/ok\r\nSet-Cookie: x=1", BASE),
        ("", BASE),
        (None, BASE),
    ],
)
def test_safe_callback_url_is_authjs_default_redirect(target: str | None, expected: str) -> None:
    """Paths go to our origin, same-origin URLs stay, everything else falls back to base_url."""
    assert safe_callback_url(target, BASE) == expected


def test_link_never_carries_a_foreign_callback_url(signin: EmailSignIn, outbox: Outbox) -> None:
    """send_link applies the redirect rule: a foreign callbackUrl becomes base_url in the link."""
    signin.send_link("ada@example.com", callback_url="https://evil.example/phish")
    query = dict(parse_qsl(urlsplit(outbox.sent[0][1]).query))
    assert query["callbackUrl"] == BASE


def test_lost_race_for_a_new_address_signs_in_the_winners_user(
    adapter: PeeweeAdapter, signin: EmailSignIn, outbox: Outbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two links for one new address used at once: when the other sign-in creates the user between
    our look-up and our insert, our attempt is rolled back (token included) and retried, signing in
    the same user instead of failing."""
    signin.send_link("ada@example.com")
    address, token, _ = outbox.last()
    winner = adapter.create_user({"email": "ada@example.com"})  # the concurrent sign-in's user
    real = adapter.get_user_by_email
    calls = {"n": 0}

    def stale_first_look(address: str) -> Any:
        calls["n"] += 1
        return None if calls["n"] == 1 else real(address)

    monkeypatch.setattr(adapter, "get_user_by_email", stale_first_look)
    user, session = signin.sign_in(address, token)
    assert calls["n"] == 2
    assert user["id"] == winner["id"] and user["email_verified"] is not None
    assert session["user_id"] == winner["id"]
    assert count(adapter.database, "users") == 1 and count(adapter.database, "verification_tokens") == 0


def test_two_links_for_a_new_address_used_at_once_make_one_user(
    adapter: PeeweeAdapter, signin: EmailSignIn, outbox: Outbox
) -> None:
    """Two different links for the same new address, posted simultaneously: both sign in, as one user."""
    signin.send_link("ada@example.com")
    signin.send_link("ada@example.com")
    links = [outbox.sent[0][1], outbox.sent[1][1]]
    barrier = threading.Barrier(2)
    users: list[str] = []
    errors: list[BaseException] = []

    def use(url: str) -> None:
        query = dict(parse_qsl(urlsplit(url).query))
        barrier.wait()
        try:
            users.append(signin.sign_in(query["email"], query["token"])[0]["id"])
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            adapter.database.close()

    threads = [threading.Thread(target=use, args=(url,)) for url in links]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == [] and len(users) == 2 and users[0] == users[1]
    assert count(adapter.database, "users") == 1 and count(adapter.database, "sessions") == 2
