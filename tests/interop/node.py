"""Driving the real ``@auth/sequelize-adapter`` (``tests/interop/authjs.mjs``) from pytest.

The Node program runs a batch of operations against a database URL and prints
their results as JSON; the suite keeps one ``node`` process for all its batches
(:class:`NodeServer`). :class:`JsAdapter` encodes the arguments and decodes the
results: JS ``Date`` values become aware UTC datetimes (an Invalid Date becomes
:data:`INVALID_DATE`, which equals nothing), ``undefined`` becomes :data:`UNDEFINED`.

The JS side needs ``node`` and ``tests/interop/node_modules`` (``npm ci`` there, or
``bash .ci/setup.d/interop.sh``). Without them the interop tests are skipped with
the reason, except under ``CI=true``, where they fail.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import tempfile
from datetime import datetime
from datetime import timezone
from pathlib import Path
from typing import Any

import pytest

UTC = timezone.utc

#: The folder of the Node program, its package.json and node_modules.
INTEROP_DIR = Path(__file__).resolve().parent
SCRIPT = INTEROP_DIR / "authjs.mjs"
NODE_MODULES = INTEROP_DIR / "node_modules"

#: Python column names that Sequelize's attributes spell differently.
JS_NAMES = {
    "email_verified": "emailVerified",
    "provider_account_id": "providerAccountId",
    "user_id": "userId",
    "session_token": "sessionToken",
}
PY_NAMES = {js: py for py, js in JS_NAMES.items()}


class _Marker:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


#: What an Invalid Date from the JS side decodes to; equal to nothing but itself.
INVALID_DATE = _Marker("Invalid Date")
#: What ``undefined`` from the JS side decodes to.
UNDEFINED = _Marker("undefined")


class JsError(AssertionError):
    """An operation that threw on the JS side (name and message of the JS error)."""

    def __init__(self, op: str, name: str, message: str) -> None:
        super().__init__(f"{op} threw {name}: {message}")
        self.op = op
        self.name = name
        self.message = message


def node_problem() -> str | None:
    """Why the JS side cannot run on this machine, or None when it can."""
    if shutil.which("node") is None:
        return "node is not installed (needed to run @auth/sequelize-adapter)"
    installed = NODE_MODULES / "@auth" / "sequelize-adapter" / "package.json"
    if not installed.exists():
        return "tests/interop/node_modules is missing: run `bash .ci/setup.d/interop.sh` (npm ci)"
    wanted = json.loads((INTEROP_DIR / "package.json").read_text())["dependencies"]
    for name, version in wanted.items():
        manifest = NODE_MODULES / name / "package.json"
        found = json.loads(manifest.read_text())["version"] if manifest.exists() else None
        if found != version:
            return f"tests/interop/node_modules has {name} {found}, package.json pins {version}: run npm ci"
    if not list((NODE_MODULES / "sqlite3" / "build").glob("Release/*.node")):
        return "the sqlite3 npm package has no native build: run npm ci with npm_config_nodedir set"
    return None


def require_node() -> None:
    """Skip the calling test when the JS side is missing; under ``CI=true`` fail instead."""
    problem = node_problem()
    if problem is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true and the interop suite cannot run: {problem}", pytrace=False)
    pytest.skip(problem)


def encode(value: Any) -> Any:
    """A Python value as the Node program reads it (aware datetimes as ``{"$date": ...}``)."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime passed to the JS side")
        text = value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return {"$date": text}
    if isinstance(value, dict):
        return {key: encode(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [encode(item) for item in value]
    return value


def decode(value: Any) -> Any:
    """A JSON value printed by the Node program, with its dates and undefined decoded."""
    if isinstance(value, list):
        return [decode(item) for item in value]
    if isinstance(value, dict):
        if set(value) == {"$date"}:
            return datetime.fromisoformat(value["$date"].replace("Z", "+00:00"))
        if value == {"$invalidDate": True}:
            return INVALID_DATE
        if value == {"$undefined": True}:
            return UNDEFINED
        return {key: decode(item) for key, item in value.items()}
    return value


def to_js(record: dict[str, Any]) -> dict[str, Any]:
    """A Python record (column names) as the JS adapter takes it (attribute names)."""
    return {JS_NAMES.get(key, key): value for key, value in record.items()}


def to_py(record: dict[str, Any]) -> dict[str, Any]:
    """A record returned by the JS adapter with the Python (column) names."""
    return {PY_NAMES.get(key, key): value for key, value in record.items()}


def op(name: str, *args: Any) -> dict[str, Any]:
    """One operation of a batch: an adapter method name (or a helper of authjs.mjs) and its arguments."""
    return {"op": name, "args": list(args)}


class NodeServer:
    """One ``node authjs.mjs --serve`` process that runs every batch of a test session.

    Node and the npm packages load once; each batch still gets its own Sequelize
    connection, closed at its end. Use as a context manager.
    """

    def __init__(self, timeout: float = 120) -> None:
        self.timeout = timeout
        self._stderr = tempfile.TemporaryFile()
        self._process = subprocess.Popen(
            ["node", str(SCRIPT), "--serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            cwd=INTEROP_DIR,
        )

    def __enter__(self) -> NodeServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """End the process (it exits when its input closes)."""
        process = self._process
        if process.stdin is not None and not process.stdin.closed:
            process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
        self._stderr.close()

    @property
    def alive(self) -> bool:
        """Whether the process still runs (a crash ends it; the suite then starts another)."""
        return self._process.poll() is None

    def _died(self, what: str) -> AssertionError:
        self._stderr.seek(0)
        detail = self._stderr.read().decode("utf-8", "replace").strip()[-4000:]
        return AssertionError(f"the node process {what}: {detail}")

    def request(self, url: str, ops: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Send one batch; the outcomes printed for it."""
        process = self._process
        assert process.stdin is not None and process.stdout is not None
        try:
            process.stdin.write(json.dumps({"url": url, "ops": encode(ops)}).encode() + b"\n")
            process.stdin.flush()
        except BrokenPipeError:
            raise self._died("has exited") from None
        ready, _, _ = select.select([process.stdout], [], [], self.timeout)
        if not ready:
            raise self._died(f"did not answer within {self.timeout} s")
        line = process.stdout.readline()
        if not line:
            raise self._died("has exited")
        reply = json.loads(line)
        if "failure" in reply:
            raise AssertionError(f"the node process could not run the batch: {reply['failure']}")
        return list(reply["results"])


class JsAdapter:
    """``@auth/sequelize-adapter`` on ``url``, as a Next.js app would run it (``synchronize: false``).

    Batches go to ``server`` when given, else each to a new ``node`` process.
    """

    def __init__(self, url: str, server: NodeServer | None = None) -> None:
        self.url = url
        self.server = server

    def _outcomes(self, ops: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if self.server is not None:
            return self.server.request(self.url, ops)
        completed = subprocess.run(
            ["node", str(SCRIPT), self.url, "batch"],
            input=json.dumps(encode(ops)),
            capture_output=True,
            text=True,
            cwd=INTEROP_DIR,
            timeout=120,
            check=False,
        )
        if completed.returncode != 0:
            raise AssertionError(f"node exited with {completed.returncode}: {completed.stderr.strip()}")
        return list(json.loads(completed.stdout)["results"])

    def run(self, *ops: dict[str, Any]) -> list[Any]:
        """Run the operations as one batch; their results in order, a :class:`JsError` for a throw."""
        outcomes = self._outcomes(list(ops))
        results: list[Any] = []
        for spec, outcome in zip(ops, outcomes, strict=True):
            if "error" in outcome:
                results.append(JsError(spec["op"], outcome["error"]["name"], outcome["error"]["message"]))
            else:
                results.append(decode(outcome["ok"]))
        return results

    def batch(self, *ops: dict[str, Any]) -> list[Any]:
        """Like :meth:`run`, but the first operation that threw raises its :class:`JsError`."""
        results = self.run(*ops)
        for result in results:
            if isinstance(result, JsError):
                raise result
        return results

    def call(self, name: str, *args: Any) -> Any:
        """One operation in a batch of its own; its result (raises :class:`JsError` if it threw)."""
        return self.batch(op(name, *args))[0]
