"""``python -m benchmarks``: the adapter against hand-written SQL, and the scale and load modes.

::

    python -m benchmarks                          # every operation on SQLite, table + --json
    python -m benchmarks --postgres URL           # ... and on PostgreSQL
    python -m benchmarks --scale                  # 1,000,000 users in one SQLite file
    python -m benchmarks --concurrency            # threads and processes on one WAL file
    python -m benchmarks --profile get_session_and_user   # where the adapter's time goes

Every file is made under a temporary folder and deleted at the end.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from datetime import timezone
from typing import Any

from benchmarks import report
from benchmarks.baseline import RawBaseline
from benchmarks.ops import OPERATIONS
from benchmarks.ops import Operation
from benchmarks.ops import Workload
from benchmarks.seed import Seeder
from benchmarks.timing import Result
from benchmarks.timing import compare
from peewee_authjs import PeeweeAdapter
from peewee_authjs.database import open_database


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@contextmanager
def sqlite_file(directory: str | None = None) -> Iterator[str]:
    """A path for a new SQLite file in a temporary folder, removed afterwards."""
    folder = tempfile.mkdtemp(prefix="authjs-bench-", dir=directory)
    try:
        yield f"{folder}/auth.db"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def prepared(url: str, users: int, now: datetime) -> Iterator[tuple[PeeweeAdapter, Seeder]]:
    """An adapter on ``url`` with fresh tables and ``users`` seeded users; tables dropped afterwards."""
    database = open_database(url)
    adapter = PeeweeAdapter(database)
    adapter.drop_tables()
    adapter.create_tables()
    seeder = Seeder(adapter)
    started = time.perf_counter()
    seeder.seed_users(0, users, now)
    _say(f"  seeded {users:,} users (+account, session, authenticator) in {time.perf_counter() - started:.1f} s")
    try:
        yield adapter, seeder
    finally:
        if database.in_transaction():
            database.rollback()
        adapter.drop_tables()
        database.close()


def run_operations(
    adapter: PeeweeAdapter,
    baseline: RawBaseline,
    workload: Workload,
    operations: list[Operation],
    rounds: int,
    seconds: float,
    clock: str,
) -> list[Result]:
    results = []
    for op in operations:
        result = compare(
            op.name,
            op.kind,
            op.target,
            getattr(adapter, op.name),
            getattr(baseline, op.name),
            lambda k, op=op: op.make(workload, k),  # type: ignore[misc]
            rounds,
            seconds,
            clock,
        )
        _say(f"  {op.name:<31} ratio {result.ratio:.2f} (wall {result.wall_ratio:.2f})")
        results.append(result)
    return results


def bench_backend(
    label: str, url: str, baseline_factory: Any, args: argparse.Namespace, clock: str, rounds: int
) -> list[Result]:
    now = datetime.now(timezone.utc)
    _say(f"{label}: {args.users:,} users, {rounds} rounds of ~{args.seconds}s per side, {clock} clock")
    with prepared(url, args.users, now) as (adapter, seeder):
        baseline = baseline_factory()
        try:
            workload = Workload(seeder, args.users, now, random.Random(args.seed))
            ops = [op for op in OPERATIONS if not args.only or op.name in args.only]
            if args.profile:
                return profile(adapter, workload, args.profile)
            return run_operations(adapter, baseline, workload, ops, rounds, args.seconds, clock)
        finally:
            baseline.close()


def profile(adapter: PeeweeAdapter, workload: Workload, name: str) -> list[Result]:
    """cProfile of the adapter's ``name`` over a batch, printed (no table)."""
    op = next(op for op in OPERATIONS if op.name == name)
    call = getattr(adapter, name)
    for a in op.make(workload, 200):
        call(*a)
    calls = op.make(workload, 20_000 if op.kind == "read" else 5_000)
    profiler = cProfile.Profile()
    profiler.enable()
    for a in calls:
        call(*a)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
    print(out.getvalue())
    return []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=10_000, help="seeded users (default 10,000)")
    parser.add_argument("--rounds", type=int, default=None,
                        help="interleaved rounds per operation (default 11 on SQLite, 21 on PostgreSQL, "
                        "whose commit latency is noisier)")
    parser.add_argument("--seconds", type=float, default=0.1, help="length of one batch (default 0.1 s)")
    parser.add_argument("--clock", choices=("auto", "cpu", "wall"), default="auto",
                        help="what the ratio is measured by: auto = CPU time on SQLite (the engine runs "
                        "in this process), wall time on PostgreSQL (default auto)")
    parser.add_argument("--only", type=lambda s: s.split(","), default=None, help="op1,op2: these only")
    parser.add_argument("--postgres", metavar="URL", help="also run on this PostgreSQL database")
    parser.add_argument("--no-sqlite", action="store_true", help="skip SQLite (with --postgres)")
    parser.add_argument("--json", metavar="PATH", help="write the results to this JSON file")
    parser.add_argument("--markdown", action="store_true", help="also print the tables as Markdown")
    parser.add_argument("--profile", metavar="OP", help="print a cProfile of the adapter's OP and stop")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--tmp", metavar="DIR", default=None, help="where SQLite files go (default /tmp)")
    parser.add_argument("--scale", action="store_true", help="the 1,000,000-user mode")
    parser.add_argument("--scale-users", type=int, default=1_000_000)
    parser.add_argument("--concurrency", action="store_true", help="the threads/processes mode")
    parser.add_argument("--workers", type=int, default=4, help="threads and processes (default 4)")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per load run (default 5)")
    args = parser.parse_args(argv)

    data: dict[str, Any] = {"environment": report.environment()}
    if args.scale:
        from benchmarks.scale import run_scale

        data["scale"] = run_scale(args)
    elif args.concurrency:
        from benchmarks.concurrency import run_concurrency

        data["concurrency"] = run_concurrency(args)
    else:
        sections: list[tuple[str, int, list[Result]]] = []
        if not args.no_sqlite:
            with sqlite_file(args.tmp) as path:
                clock = "cpu" if args.clock == "auto" else args.clock
                rounds = args.rounds or 11
                results = bench_backend(
                    "SQLite", f"sqlite:///{path}", lambda: RawBaseline.sqlite(path), args, clock, rounds
                )
            sections.append(("sqlite", rounds, results))
        if args.postgres:
            url = args.postgres
            clock = "wall" if args.clock == "auto" else args.clock
            rounds = args.rounds or 21
            results = bench_backend("PostgreSQL", url, lambda: RawBaseline.postgres(url), args, clock, rounds)
            sections.append(("postgres", rounds, results))
        for name, rounds, results in sections:
            if not results:
                continue
            title = (
                f"\n{name}: ops/s by {results[0].clock} time (median of {rounds} interleaved rounds); "
                "ratio = median of paired adapter/baseline ratios"
            )
            print(report.table(title, results))
            if args.markdown:
                print()
                print(report.markdown(results))
            data[name] = [r.as_dict() for r in results]
    if args.json:
        report.write_json(args.json, data)
        _say(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
