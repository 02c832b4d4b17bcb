"""The benchmark commands still run (tiny sizes; nothing here is timed or compared)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from benchmarks.run import main
from tests.backends import POSTGRES_ENV


def test_operations_mode_writes_every_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A short run prints the table and writes, per operation, both sides' ops/s and their ratio."""
    out = tmp_path / "bench.json"
    argv = [
        "--users",
        "300",
        "--rounds",
        "2",
        "--seconds",
        "0.005",
        "--tmp",
        str(tmp_path),
        "--only",
        "get_session_and_user,delete_user,use_verification_token",
        "--json",
        str(out),
    ]
    url = os.environ.get(POSTGRES_ENV)
    if url:
        argv += ["--postgres", url]
    assert main(argv) == 0
    data = json.loads(out.read_text())
    sections = ["sqlite", "postgres"] if url else ["sqlite"]
    for section in sections:
        names = [r["name"] for r in data[section]]
        assert names == ["get_session_and_user", "delete_user", "use_verification_token"]
        for result in data[section]:
            assert result["adapter_ops"] > 0 and result["baseline_ops"] > 0 and result["ratio"] > 0
            assert len(result["adapter_rounds"]) == len(result["baseline_rounds"]) == 2
    assert "get_session_and_user" in capsys.readouterr().out
    assert [p.name for p in tmp_path.iterdir()] == ["bench.json"]  # the SQLite file is gone


def test_scale_mode_reports_latency_and_cleanup(tmp_path: Path) -> None:
    """--scale (here with 12,000 users) reports both latencies, the seeding, and a cleanup without errors."""
    out = tmp_path / "scale.json"
    assert main(["--scale", "--scale-users", "12000", "--tmp", str(tmp_path), "--json", str(out)]) == 0
    scale = json.loads(out.read_text())["scale"]
    assert scale["at_10k"]["p99_us"] > 0 and scale["at_12k"]["p99_us"] > 0
    assert scale["seeding"]["rows"] == 12000 * 3 + 1200
    assert scale["cleanup"]["verification_tokens"] == 600
    assert 0 < scale["cleanup"]["sessions"] <= 6000
    assert scale["cleanup"]["served_meanwhile"]["errors"] == {}


def test_concurrency_mode_counts_errors(tmp_path: Path) -> None:
    """--concurrency runs threads and processes on one WAL file and counts no "database is locked"."""
    out = tmp_path / "load.json"
    assert (
        main(
            [
                "--concurrency",
                "--workers",
                "2",
                "--duration",
                "0.5",
                "--tmp",
                str(tmp_path),
                "--json",
                str(out),
            ]
        )
        == 0
    )
    runs = json.loads(out.read_text())["concurrency"]["runs"]
    assert [(r["backend"], r["mode"]) for r in runs] == [("sqlite", "threads"), ("sqlite", "processes")]
    for run in runs:
        assert run["ops"] > 0 and run["reads"] > 0
        assert run["errors"] == {}
