"""The sign-in pages: every value is escaped."""

from __future__ import annotations

from peewee_authjs.pages import Pages

EVIL = '"><script>alert(1)</script>'


def test_values_are_escaped() -> None:
    """Addresses, URLs and tokens put into a page cannot break out of their attribute or element."""
    pages = Pages()
    html = pages.confirm(action="/a", csrf_token=EVIL, email=EVIL, token=EVIL, callback_url=EVIL)
    html += pages.signin(action=EVIL, csrf_token="t", callback_url=EVIL, error=EVIL)
    html += pages.signout(action="/s", csrf_token="t", callback_url=EVIL)
    html += pages.error(title=EVIL, message=EVIL, retry_url=EVIL)
    assert "<script>" not in html
    assert html.count("&quot;&gt;&lt;script&gt;") == 13  # every value, everywhere it is shown


def test_layout_can_be_replaced() -> None:
    """A subclass that overrides layout() restyles every page."""

    class Plain(Pages):
        def layout(self, title: str, body: str) -> str:
            return f"[{title}]{body}"

    assert Plain().verify_request().startswith("[Check your e-mail]<h1>")
