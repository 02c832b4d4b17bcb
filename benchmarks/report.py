"""The terminal table and the JSON file."""

from __future__ import annotations

import json
import os
import platform
import sqlite3
import sys
from datetime import datetime
from datetime import timezone
from typing import Any

import peewee

from benchmarks.timing import Result


def environment() -> dict[str, Any]:
    """What the numbers were measured on."""
    return {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join(["python", "-m", "benchmarks", *sys.argv[1:]]),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "sqlite": sqlite3.sqlite_version,
        "peewee": peewee.__version__,
        "machine": platform.machine(),
        "system": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
    }


def table(title: str, results: list[Result]) -> str:
    """A fixed-width table of ``results`` (ops/s are medians; ratio is the median paired ratio)."""
    head = (
        f"{'operation':<31} {'adapter/s':>10} {'baseline/s':>11} {'ratio':>6} {'range':>11} "
        f"{'wall':>5} {'target':>7}"
    )
    lines = [title, head, "-" * len(head)]
    for r in results:
        target = "" if r.target is None else f">={r.target:.1f}"
        mark = "" if r.ok is None else ("  ok" if r.ok else "  MISS")
        lines.append(
            f"{r.name:<31} {r.adapter_ops:>10,.0f} {r.baseline_ops:>11,.0f} {r.ratio:>6.2f} "
            f"{r.ratio_min:>5.2f}-{r.ratio_max:<5.2f} {r.wall_ratio:>5.2f} {target:>7}{mark}"
        )
    return "\n".join(lines)


def markdown(results: list[Result]) -> str:
    """The same table in Markdown, for docs/performance.md."""
    lines = [
        "| operation | adapter ops/s | baseline ops/s | ratio | range | ratio by wall time | target |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        target = "" if r.target is None else f">= {r.target:.1f} {'ok' if r.ok else 'MISS'}"
        lines.append(
            f"| `{r.name}` | {r.adapter_ops:,.0f} | {r.baseline_ops:,.0f} | {r.ratio:.2f} | "
            f"{r.ratio_min:.2f}-{r.ratio_max:.2f} | {r.wall_ratio:.2f} | {target} |"
        )
    return "\n".join(lines)


def write_json(path: str, data: dict[str, Any]) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2, default=str)
        handle.write("\n")
