"""A runnable example: e-mail sign-in for a Flask app on SQLite, links printed to the console.

::

    peewee-authjs demo                       # http://127.0.0.1:5000, ./authjs-demo.db
    peewee-authjs demo --port 8000 --database sqlite:///other.db

Open the page, enter any address, and open the sign-in link the demo prints on
its standard output (no mail is sent). The home page then shows the signed-in
user and every session of theirs, with buttons to end one session, to sign out
the other devices, and to sign out. Sign in from a second browser to see two.

The secret comes from ``AUTH_SECRET`` when set (the Next.js app's, to share its
database and links); otherwise a random one is made at start, so links printed
by an earlier run no longer work.
"""

from __future__ import annotations

import os
import secrets
import sys
from html import escape
from typing import TextIO

from flask import Flask
from flask import redirect
from flask import url_for
from werkzeug.wrappers import Response

from peewee_authjs.adapter import PeeweeAdapter
from peewee_authjs.flask_ext import AuthJS
from peewee_authjs.pages import Pages
from peewee_authjs.pages import hidden
from peewee_authjs.web import js_iso

#: The demo's database when none is given: a file in the current directory.
DEFAULT_DATABASE = "sqlite:///authjs-demo.db"


class ConsoleLinkSender:
    """Prints each sign-in link to ``out`` in a box that is easy to spot (demo only)."""

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out

    def __call__(self, email: str, url: str) -> None:
        out = self.out or sys.stdout
        rule = "=" * 72
        print(f"\n{rule}\nSign-in link for {email} (open it in your browser):\n\n{url}\n{rule}\n", file=out)
        out.flush()


def create_app(
    database_url: str = DEFAULT_DATABASE, *, secret: str | None = None, out: TextIO | None = None
) -> Flask:
    """The demo app on ``database_url`` (tables created if missing), printing links to ``out``."""
    adapter = PeeweeAdapter(database_url)
    adapter.create_tables()
    app = Flask(__name__)
    app.config.update(
        AUTHJS_SECRET=secret or os.environ.get("AUTH_SECRET") or secrets.token_hex(32),
        # A local development server: the links point wherever the browser reached it.
        AUTHJS_TRUST_HOST=True,
    )
    pages = Pages()  # the demo's pages share the sign-in pages' layout
    authjs = AuthJS(app, adapter, send=ConsoleLinkSender(out), pages=pages)

    def page(title: str, body: str) -> str:
        return pages.layout(title, body)

    def post_button(action: str, label: str, callback: str | None = "/", secondary: bool = False) -> str:
        css = ' class="secondary"' if secondary else ""
        return (
            f'<form class="inline" method="post" action="{escape(action)}">'
            f"{hidden('csrfToken', authjs.csrf_token())}{hidden('callbackUrl', callback)}"
            f'<button type="submit"{css} id="{escape(label.lower().replace(" ", "-"))}">{escape(label)}</button>'
            "</form> "
        )

    @app.get("/")
    def home() -> str:
        user, current = authjs.user, authjs.session
        if user is None or current is None:
            return page(
                "peewee-authjs demo",
                "<h1>peewee-authjs demo</h1><p>You are not signed in.</p>"
                f'<p><a id="signin" href="{escape(url_for("authjs.signin", callbackUrl="/"))}">Sign in</a></p>'
                '<p class="muted">The sign-in link is printed on the console where the demo runs.</p>',
            )
        rows = []
        for session in authjs.sessions.list_for_user(user["id"]):
            this = session["id"] == current["id"]
            action = (
                "<strong>this device</strong>"
                if this
                else post_button(url_for("revoke", session_id=session["id"]), "End", secondary=True)
            )
            rows.append(
                f"<tr><td><code>{escape(session['id'][:8])}</code></td>"
                f"<td>{escape(js_iso(session['expires']))}</td><td>{action}</td></tr>"
            )
        verified = user.get("email_verified")
        return page(
            "Signed in",
            f'<h1>Signed in as <span id="user-email">{escape(user.get("email") or "")}</span></h1>'
            "<table>"
            f"<tr><th>User id</th><td><code>{escape(user['id'])}</code></td></tr>"
            f"<tr><th>Name</th><td>{escape(user.get('name') or '(none)')}</td></tr>"
            f"<tr><th>E-mail verified</th><td>{escape(js_iso(verified) if verified else 'no')}</td></tr>"
            "</table>"
            f'<h2>Your sessions ({len(rows)})</h2><table id="sessions">'
            "<tr><th>Session</th><th>Expires</th><th></th></tr>"
            + "".join(rows)
            + "</table><p>"
            + post_button(url_for("authjs.signout_others"), "Sign out other devices", secondary=True)
            + post_button(url_for("authjs.signout_post"), "Sign out")
            + '</p><p class="muted">JSON, as Auth.js answers it: '
            f'<a href="{escape(url_for("authjs.session"))}">{escape(url_for("authjs.session"))}</a></p>',
        )

    @app.post("/sessions/<session_id>/end")
    @authjs.csrf_protect
    def revoke(session_id: str) -> Response:
        user = authjs.user
        if user is not None:
            authjs.sessions.revoke(user["id"], session_id)
        return redirect("/", 303)

    return app


def run(host: str = "127.0.0.1", port: int = 5000, database_url: str = DEFAULT_DATABASE) -> None:
    """Serve the demo with Flask's development server until interrupted."""
    app = create_app(database_url)
    print(f"peewee-authjs demo on {database_url}: open http://{host}:{port}/", flush=True)
    app.run(host=host, port=port, threaded=True, use_reloader=False)


__all__ = ["DEFAULT_DATABASE", "ConsoleLinkSender", "create_app", "run"]
