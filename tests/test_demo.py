"""The demo app and its ``peewee-authjs demo`` subcommand."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.test import Client

import peewee_authjs.demo
from peewee_authjs import PeeweeAdapter
from peewee_authjs.cli import main
from peewee_authjs.demo import create_app
from tests.helpers import count
from tests.webflow import SECRET
from tests.webflow import confirm
from tests.webflow import form_fields

LINK = re.compile(r"http://localhost/auth/callback/email\?\S+")


@pytest.fixture
def out() -> io.StringIO:
    """The demo's console."""
    return io.StringIO()


@pytest.fixture
def url(tmp_path: Path) -> str:
    """The demo's database."""
    return f"sqlite:///{tmp_path / 'demo.db'}"


@pytest.fixture
def app(url: str, out: io.StringIO) -> Flask:
    """The demo app on a new SQLite file."""
    return create_app(url, secret=SECRET, out=out)


def demo_sign_in(client: Client, out: io.StringIO, email: str = "ada@example.com") -> None:
    """Sign in as a user of the demo would: the form, then the link printed on the console."""
    form = client.get("/auth/signin?callbackUrl=/")
    response = client.post("/auth/signin/email", data={**form_fields(form), "email": email})
    assert response.status_code == 303
    printed = out.getvalue()
    assert f"Sign-in link for {email}" in printed
    link = LINK.findall(printed)[-1]
    page = client.get(link)
    assert page.status_code == 200
    assert confirm(client, page).headers["Location"] == "http://localhost/"


def test_the_demo_creates_its_tables(url: str, app: Flask) -> None:
    """create_app makes the Auth.js tables in a new database, and a second start keeps them."""
    adapter = PeeweeAdapter(url)
    assert count(adapter.database, "users") == 0
    create_app(url, secret=SECRET)
    assert count(adapter.database, "sessions") == 0


def test_anonymous_home_page_links_to_sign_in(app: Flask) -> None:
    """The home page says who is signed in: nobody, with a link to the sign-in form."""
    page = app.test_client().get("/").get_data(as_text=True)
    assert "not signed in" in page and 'href="/auth/signin?callbackUrl=/"' in page


def test_sign_in_shows_the_user_and_their_sessions(app: Flask, out: io.StringIO) -> None:
    """After signing in with the printed link the home page shows the user and each of their sessions."""
    laptop, phone = app.test_client(), app.test_client()
    demo_sign_in(laptop, out)
    demo_sign_in(phone, out)
    page = laptop.get("/").get_data(as_text=True)
    assert 'id="user-email">ada@example.com<' in page
    assert "Your sessions (2)" in page and page.count("this device") == 1
    assert "token" not in page.lower().replace("csrftoken", "")  # never a session token on the page


def test_end_one_session(app: Flask, out: io.StringIO, url: str) -> None:
    """The End button of another session ends that one only; a forged request (no CSRF token) is refused."""
    laptop, phone = app.test_client(), app.test_client()
    demo_sign_in(laptop, out)
    demo_sign_in(phone, out)
    page = laptop.get("/").get_data(as_text=True)
    action = re.search(r'action="(/sessions/[^"]+/end)"', page)
    assert action is not None
    assert laptop.post(action.group(1)).status_code == 403
    assert count(PeeweeAdapter(url).database, "sessions") == 2
    fields = form_fields(laptop.get("/"))
    assert laptop.post(action.group(1), data={"csrfToken": fields["csrfToken"]}).status_code == 303
    assert "Your sessions (1)" in laptop.get("/").get_data(as_text=True)
    assert "not signed in" in phone.get("/").get_data(as_text=True)


def test_sign_out_other_devices_and_sign_out(app: Flask, out: io.StringIO) -> None:
    """The demo's two buttons: other devices are signed out, then this one."""
    laptop, phone = app.test_client(), app.test_client()
    demo_sign_in(laptop, out)
    demo_sign_in(phone, out)
    token = form_fields(laptop.get("/"))["csrfToken"]
    laptop.post("/auth/signout-others", data={"csrfToken": token, "callbackUrl": "/"})
    assert "not signed in" in phone.get("/").get_data(as_text=True)
    assert "Your sessions (1)" in laptop.get("/").get_data(as_text=True)
    laptop.post("/auth/signout", data={"csrfToken": token, "callbackUrl": "/"})
    assert "not signed in" in laptop.get("/").get_data(as_text=True)


def test_cli_demo_passes_its_options(monkeypatch: pytest.MonkeyPatch) -> None:
    """``peewee-authjs demo --host --port --database`` runs the demo with them (defaults otherwise)."""
    calls: list[tuple[Any, ...]] = []
    monkeypatch.setattr(peewee_authjs.demo, "run", lambda *args: calls.append(args))
    assert main(["demo"]) == 0
    assert main(["demo", "--host", "0.0.0.0", "--port", "8001", "--database", "sqlite:///x.db"]) == 0
    assert calls == [("127.0.0.1", 5000, "sqlite:///authjs-demo.db"), ("0.0.0.0", 8001, "sqlite:///x.db")]


def test_cli_needs_a_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    """``peewee-authjs`` alone prints its usage and exits with status 2."""
    assert main([]) == 2
    assert "required: COMMAND" in capsys.readouterr().err
