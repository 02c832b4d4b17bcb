"""The runner of the JS side: missing Node parts skip on a developer machine and fail in CI;
values cross the process boundary unchanged (no Node needed for these tests)."""

from __future__ import annotations

import hashlib
import shutil
import uuid
from datetime import datetime
from pathlib import Path

import pytest

from peewee_authjs.fields import UTC
from tests.interop import node


def test_missing_node_skips_outside_ci_and_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without node on PATH the interop tests are skipped with the reason, unless CI=true: then they fail."""
    monkeypatch.setenv("PATH", "")
    assert node.node_problem() == "node is not installed (needed to run @auth/sequelize-adapter)"
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="node is not installed"):
        node.require_node()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true and the interop suite cannot run"):
        node.require_node()


def test_missing_node_modules_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without tests/interop/node_modules the reason names the command that installs it."""
    monkeypatch.setattr(shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(node, "NODE_MODULES", node.INTEROP_DIR / "no-such-node_modules")
    problem = node.node_problem()
    assert problem is not None and ".ci/setup.d/interop.sh" in problem


def test_dates_and_markers_round_trip() -> None:
    """Aware datetimes go out as ISO strings with ms and Z and come back equal; Invalid Date and
    undefined come back as markers that equal no value; naive datetimes are refused."""
    instant = datetime(2030, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    encoded = node.encode({"expires": instant, "list": [instant, None]})
    assert encoded == {
        "expires": {"$date": "2030-01-02T03:04:05.678Z"},
        "list": [{"$date": "2030-01-02T03:04:05.678Z"}, None],
    }
    assert node.decode(encoded) == {"expires": instant, "list": [instant, None]}
    assert node.decode({"$invalidDate": True}) is node.INVALID_DATE != instant
    assert node.decode({"$undefined": True}) is node.UNDEFINED
    with pytest.raises(ValueError, match="naive"):
        node.encode(datetime(2030, 1, 2))


def test_one_process_per_batch_and_the_server_agree(tmp_path: Path) -> None:
    """The command-line mode (a node process per batch, as in docs/interop.md) and the server mode the
    suite uses give the same results, including a JS error reported in its place."""
    node.require_node()
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    ops = [node.op("sync"), node.op("hash", "abc"), node.op("getUser", str(uuid.uuid4())), node.op("nope")]
    alone = node.JsAdapter(url).run(*ops)
    with node.NodeServer() as server:
        served = node.JsAdapter(url, server).run(*ops)
    assert alone[:3] == served[:3] == [None, hashlib.sha256(b"abc").hexdigest(), None]
    assert isinstance(alone[3], node.JsError) and isinstance(served[3], node.JsError)
    assert alone[3].message == served[3].message == "unknown operation nope"
