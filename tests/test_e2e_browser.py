"""End to end in a real headless Chromium: sign in through the demo with the link it prints, sign out.

Runs ``peewee-authjs demo`` in a subprocess on a free port and drives Debian's
``chromium`` through ``chromedriver`` with Selenium (the driver path is given, so
Selenium Manager downloads nothing). Without Chromium the test skips with the
reason, except under ``CI=true``, where it fails.
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1000,800",
)


def _missing() -> str | None:
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.access(path, os.X_OK):
            return f"{path} not found (apt-get install chromium chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install selenium)"
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Demo:
    """The demo server in a subprocess, with its standard output collected line by line."""

    def __init__(self, tmp_path: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.lines: queue.Queue[str] = queue.Queue()
        self.stderr = (tmp_path / "demo.err").open("w")
        command = [sys.executable, "-u", "-m", "peewee_authjs", "demo", "--port", str(self.port)]
        command += ["--database", f"sqlite:///{tmp_path / 'demo.db'}"]
        self.process = subprocess.Popen(
            command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=self.stderr, text=True
        )
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self._wait_listening()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)

    def _wait_listening(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the demo exited with {self.process.returncode}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.1)
        raise AssertionError("the demo did not listen within 30 s")

    def printed_link(self, timeout: float = 15.0) -> str:
        """The next sign-in link the demo prints."""
        pattern = re.compile(re.escape(self.url) + r"/auth/callback/email\?\S+")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                continue
            match = pattern.search(line)
            if match:
                return match.group(0)
        raise AssertionError("the demo printed no sign-in link")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.reader.join(timeout=10)
        assert self.process.stdout is not None
        self.process.stdout.close()
        self.stderr.close()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    """A headless Chromium (skipped without one, failing under CI=true)."""
    reason = _missing()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI needs the browser test: {reason}")
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    profile = tmp_path / "chromium-profile"
    profile.mkdir()
    options.add_argument(f"--user-data-dir={profile}")
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.implicitly_wait(10)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    """``peewee-authjs demo`` serving on a free port of 127.0.0.1."""
    server = Demo(tmp_path)
    try:
        yield server
    finally:
        server.stop()


def _wait_until(browser: Any, condition: Any, what: str, timeout: float = 20.0) -> None:
    """Wait for ``condition(browser)`` after a click: the old page may still be shown for a moment."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    def check(driver: Any) -> bool:
        try:
            return bool(condition(driver))
        except (StaleElementReferenceException, WebDriverException):
            return False

    WebDriverWait(browser, timeout).until(check, message=f"the browser never showed {what}")


def test_sign_in_through_the_demo_and_sign_out(browser: Any, demo: Demo) -> None:
    """A real browser signs in with the printed link (GET shows a confirm page, the button signs in),
    sees its user page with its one session, reads /auth/session, and signs out."""
    from selenium.webdriver.common.by import By

    browser.get(demo.url + "/")
    assert "not signed in" in browser.find_element(By.TAG_NAME, "main").text
    browser.find_element(By.ID, "signin").click()
    browser.find_element(By.ID, "email").send_keys("Ada@Example.com")
    browser.find_element(By.ID, "send-link").click()
    _wait_until(
        browser, lambda d: d.find_element(By.TAG_NAME, "h1").text == "Check your e-mail", "the check page"
    )

    link = demo.printed_link()
    assert "email=ada%40example.com" in link
    browser.get(link)
    assert browser.find_element(By.TAG_NAME, "h1").text == "Confirm sign-in"
    browser.get(link)  # opening it again (a mail scanner) does not use it up
    browser.find_element(By.ID, "confirm").click()

    _wait_until(browser, lambda d: d.find_elements(By.ID, "user-email"), "the user page")
    assert browser.find_element(By.ID, "user-email").text == "ada@example.com"
    assert browser.current_url == demo.url + "/"
    rows = browser.find_elements(By.CSS_SELECTOR, "#sessions tr")
    assert len(rows) == 2 and "this device" in rows[1].text  # header + one session
    cookie = browser.get_cookie("authjs.session-token")
    assert cookie is not None and cookie["httpOnly"] and cookie["sameSite"] == "Lax"

    browser.get(demo.url + "/auth/session")
    assert '"email": "ada@example.com"' in browser.find_element(By.TAG_NAME, "body").text
    browser.get(demo.url + "/")
    browser.find_element(By.ID, "sign-out").click()
    _wait_until(
        browser, lambda d: "not signed in" in d.find_element(By.TAG_NAME, "main").text, "the signed-out page"
    )
    assert browser.get_cookie("authjs.session-token") is None

    browser.get(link)  # the used link is refused
    assert browser.find_element(By.TAG_NAME, "h1").text == "Sign-in link invalid"
