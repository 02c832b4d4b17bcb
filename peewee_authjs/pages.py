"""The HTML pages of the sign-in routes (Flask and Bottle alike).

Each page is a method of :class:`Pages` that returns a whole HTML document; every
value put into it is escaped. To change the look, subclass it and pass an instance
(``AuthJS(pages=MyPages())`` / ``AuthJSPlugin(..., pages=MyPages())``)::

    class MyPages(Pages):
        def layout(self, title: str, body: str) -> str:
            return render_template("auth.html", title=title, body=Markup(body))

Forms post the CSRF token in the ``csrfToken`` field, as Auth.js's pages do.
"""

from __future__ import annotations

from html import escape

_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f4f5f7;color:#1f2328;
margin:0;display:flex;justify-content:center}
main{background:#fff;margin:3rem 1rem;padding:2rem 2.25rem;border-radius:10px;max-width:34rem;width:100%;
box-shadow:0 1px 3px rgba(0,0,0,.12)}
h1{font-size:1.4rem;margin-top:0}
label{display:block;font-weight:600;margin-bottom:.35rem}
input[type=email]{width:100%;box-sizing:border-box;padding:.6rem;border:1px solid #c9ced6;border-radius:6px;
font-size:1rem}
button{margin-top:1rem;padding:.6rem 1.2rem;border:0;border-radius:6px;background:#2b59c3;color:#fff;
font-size:1rem;cursor:pointer}
button.secondary{background:#5b6470}
.error{background:#fdecea;color:#8a1c13;padding:.6rem .8rem;border-radius:6px}
.muted{color:#5b6470}
table{border-collapse:collapse;width:100%}
td,th{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #e3e6ea}
form.inline{display:inline}
"""


def hidden(name: str, value: str | None) -> str:
    """A hidden form field (nothing when ``value`` is None)."""
    if value is None:
        return ""
    return f'<input type="hidden" name="{escape(name)}" value="{escape(value)}">'


class Pages:
    """The sign-in pages: a layout and one method per page, each returning an HTML document."""

    #: The title shown on every page after the page's own title.
    site_name = "Sign in"

    def layout(self, title: str, body: str) -> str:
        """The whole document around ``body`` (already HTML); ``title`` is plain text."""
        return (
            '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
            f"<body><main>{body}</main></body></html>\n"
        )

    def signin(self, *, action: str, csrf_token: str, callback_url: str | None, error: str | None) -> str:
        """The e-mail sign-in form, posting ``email`` to ``action``."""
        message = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
        return self.layout(
            "Sign in",
            "<h1>Sign in</h1>"
            f"{message}"
            f'<form method="post" action="{escape(action)}">'
            f"{hidden('csrfToken', csrf_token)}{hidden('callbackUrl', callback_url)}"
            '<label for="email">E-mail address</label>'
            '<input id="email" name="email" type="email" autocomplete="email" required autofocus>'
            '<button type="submit" id="send-link">Sign in with e-mail</button>'
            "</form>",
        )

    def verify_request(self) -> str:
        """After the link was sent: "check your e-mail"."""
        return self.layout(
            "Check your e-mail",
            "<h1>Check your e-mail</h1>"
            "<p>A sign-in link has been sent to your e-mail address. "
            "Open it on this device to finish signing in.</p>",
        )

    def confirm(
        self, *, action: str, csrf_token: str, email: str | None, token: str, callback_url: str | None
    ) -> str:
        """The page of a valid link: a button that posts the link back (the GET consumes nothing)."""
        who = f" as <strong>{escape(email)}</strong>" if email else ""
        return self.layout(
            "Confirm sign-in",
            "<h1>Confirm sign-in</h1>"
            f"<p>Sign in{who}?</p>"
            f'<form method="post" action="{escape(action)}">'
            f"{hidden('csrfToken', csrf_token)}{hidden('token', token)}{hidden('email', email)}"
            f"{hidden('callbackUrl', callback_url)}"
            '<button type="submit" id="confirm">Sign in</button>'
            "</form>",
        )

    def signout(self, *, action: str, csrf_token: str, callback_url: str | None) -> str:
        """ "Are you sure you want to sign out?" with a button that posts to ``action``."""
        return self.layout(
            "Sign out",
            "<h1>Sign out</h1><p>Are you sure you want to sign out?</p>"
            f'<form method="post" action="{escape(action)}">'
            f"{hidden('csrfToken', csrf_token)}{hidden('callbackUrl', callback_url)}"
            '<button type="submit" id="signout">Sign out</button>'
            "</form>",
        )

    def error(self, *, title: str, message: str, retry_url: str | None = None) -> str:
        """An error page (bad or used link, refused form, not signed in)."""
        retry = f'<p><a href="{escape(retry_url)}">Sign in again</a></p>' if retry_url else ""
        return self.layout(
            title,
            f'<h1>{escape(title)}</h1><p class="error" role="alert">{escape(message)}</p>{retry}',
        )


__all__ = ["Pages", "hidden"]
