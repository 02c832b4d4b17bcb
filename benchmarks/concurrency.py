"""``python -m benchmarks --concurrency``: threads and processes on one database, mixed load.

``--workers`` threads sharing one adapter (a connection each, as Peewee gives
every thread its own), then as many processes with an adapter each, run for
``--duration`` seconds (and at most :data:`MAX_OPS` operations each) against one
SQLite file in WAL mode (the library's pragmas), and then against PostgreSQL when
``--postgres URL`` is given. Each operation is a session read 90% of the time;
the rest are writes, in equal shares: ``create_session``, ``update_session``,
``use_verification_token`` (of a seeded token no other worker uses). Reported:
throughput, latency percentiles, and every error by kind; "database is locked"
should never appear (writes of one statement commit on their own, writes of
several take the lock up front with ``BEGIN IMMEDIATE``, and ``busy_timeout``
is 5 s).
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from datetime import timedelta
from datetime import timezone
from typing import Any

from benchmarks import seed
from benchmarks.timing import percentile
from peewee_authjs import AdapterError
from peewee_authjs import PeeweeAdapter

USERS = 10_000
#: Operations per worker, at most.
MAX_OPS = 500_000
#: Seeded verification tokens per worker (each used at most once).
TOKENS_PER_WORKER = 20_000


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _kind(exc: BaseException) -> str:
    text = str(exc)
    if "locked" in text or "busy" in text.lower():
        return "database is locked"
    return f"{type(exc).__name__}: {text[:80]}"


def work(
    adapter: PeeweeAdapter, worker: int, users: int, start_at: float, duration: float, max_ops: int
) -> dict[str, Any]:
    """One worker's loop; its counts, errors and latencies (µs)."""
    rng = random.Random(worker)
    later = datetime.now(timezone.utc) + timedelta(days=30)
    tokens = iter(range(worker * TOKENS_PER_WORKER, (worker + 1) * TOKENS_PER_WORKER))
    reads: list[float] = []
    writes: list[float] = []
    errors: dict[str, int] = {}
    created = 0
    time.sleep(max(0.0, start_at - time.time()))
    deadline = time.perf_counter() + duration
    clock = time.perf_counter
    try:
        for n in range(max_ops):
            now = clock()
            if now >= deadline:
                break
            roll = rng.random()
            try:
                if roll < 0.9:
                    adapter.get_session_and_user(seed.session_token(rng.randrange(users)))
                    reads.append((clock() - now) * 1e6)
                    continue
                if roll < 0.9 + 0.1 / 3:
                    user_id = seed.user_id(rng.randrange(users))
                    adapter.create_session(
                        {"session_token": f"w{worker}-{n}-{created}", "user_id": user_id, "expires": later}
                    )
                    created += 1
                elif roll < 0.9 + 0.2 / 3:
                    token = seed.session_token(rng.randrange(users))
                    adapter.update_session({"session_token": token, "expires": later})
                else:
                    identifier, hashed = seed.verification_token(next(tokens))
                    if adapter.use_verification_token(identifier, hashed) is None:
                        errors["token not found"] = errors.get("token not found", 0) + 1
                writes.append((clock() - now) * 1e6)
            except StopIteration:
                break
            except AdapterError as exc:
                errors[_kind(exc)] = errors.get(_kind(exc), 0) + 1
            except Exception as exc:  # anything else is a failure to report, not to hide
                errors[_kind(exc)] = errors.get(_kind(exc), 0) + 1
    finally:
        adapter.database.close()
    return {"reads": reads, "writes": writes, "errors": errors}


def _process(url: str, worker: int, users: int, start_at: float, duration: float,
             max_ops: int) -> dict[str, Any]:
    return work(PeeweeAdapter(url), worker, users, start_at, duration, max_ops)


def _summary(mode: str, workers: int, duration: float, results: list[dict[str, Any]]) -> dict[str, Any]:
    reads = sorted(t for r in results for t in r["reads"])
    writes = sorted(t for r in results for t in r["writes"])
    errors: dict[str, int] = {}
    for r in results:
        for kind, n in r["errors"].items():
            errors[kind] = errors.get(kind, 0) + n
    return {
        "mode": mode,
        "workers": workers,
        "seconds": duration,
        "ops": len(reads) + len(writes),
        "ops_per_second": (len(reads) + len(writes)) / duration,
        "reads": len(reads),
        "writes": len(writes),
        "read_p50_us": percentile(reads, 0.5),
        "read_p99_us": percentile(reads, 0.99),
        "write_p50_us": percentile(writes, 0.5),
        "write_p99_us": percentile(writes, 0.99),
        "write_max_us": writes[-1] if writes else float("nan"),
        "errors": errors,
        "locked_errors": errors.get("database is locked", 0),
    }


def load(
    url: str, adapter: PeeweeAdapter, workers: int, duration: float, mode: str, offset: int = 0
) -> dict[str, Any]:
    """Run ``workers`` threads or processes for ``duration`` seconds; the summary.

    Worker ``w`` is numbered ``offset + w``: it draws its random keys and uses the seeded
    verification tokens of that number, so two runs never use the same token.
    """
    numbers = [offset + w for w in range(workers)]
    if mode == "threads":
        start_at = time.time() + 0.2
        with ThreadPoolExecutor(workers) as pool:
            futures = [pool.submit(work, adapter, n, USERS, start_at, duration, MAX_OPS) for n in numbers]
            results = [f.result() for f in futures]
    else:
        context = multiprocessing.get_context("spawn")
        start_at = time.time() + 3.0  # time for the children to start and import
        with context.Pool(workers) as pool:
            results = pool.starmap(_process, [(url, n, USERS, start_at, duration, MAX_OPS) for n in numbers])
    summary = _summary(mode, workers, duration, results)
    _say(f"  {mode:<9} x{workers}: {summary['ops_per_second']:,.0f} ops/s, errors {summary['errors']}")
    return summary


def _seeded(url: str, workers: int) -> PeeweeAdapter:
    from benchmarks.seed import Seeder

    adapter = PeeweeAdapter(url)
    adapter.drop_tables()
    adapter.create_tables()
    seeder = Seeder(adapter)
    now = datetime.now(timezone.utc)
    seeder.seed_users(0, USERS, now, authenticators=False)
    seeder.seed_tokens(0, 2 * workers * TOKENS_PER_WORKER, now)
    return adapter


def run_concurrency(args: argparse.Namespace) -> dict[str, Any]:
    from benchmarks.run import sqlite_file

    workers, duration = args.workers, args.duration
    data: dict[str, Any] = {"workers": workers, "duration": duration, "mix": "90% reads, 10% writes"}
    runs: list[dict[str, Any]] = []
    with sqlite_file(args.tmp) as path:
        url = f"sqlite:///{path}"
        _say(f"SQLite (WAL): {USERS:,} users")
        adapter = _seeded(url, workers)
        for mode, offset in (("threads", 0), ("processes", workers)):
            runs.append({"backend": "sqlite", **load(url, adapter, workers, duration, mode, offset)})
        adapter.database.close()
    if args.postgres:
        _say(f"PostgreSQL: {USERS:,} users, a connection per worker")
        adapter = _seeded(args.postgres, workers)
        for mode, offset in (("threads", 0), ("processes", workers)):
            runs.append({"backend": "postgres", **load(args.postgres, adapter, workers, duration, mode, offset)})
        adapter.drop_tables()
        adapter.database.close()
    data["runs"] = runs
    print_concurrency(data)
    return data


def print_concurrency(data: dict[str, Any]) -> None:
    print(f"\nconcurrency: {data['mix']}, {data['duration']:.0f} s per run")
    head = (f"{'backend':<9} {'mode':<10} {'n':>2} {'ops/s':>8} {'reads':>8} {'writes':>7} "
            f"{'read p99':>9} {'write p99':>10} {'write max':>10} {'locked':>6}  other errors")
    print(head)
    print("-" * len(head))
    for r in data["runs"]:
        other = {k: v for k, v in r["errors"].items() if k != "database is locked"}
        print(f"{r['backend']:<9} {r['mode']:<10} {r['workers']:>2} {r['ops_per_second']:>8,.0f} "
              f"{r['reads']:>8,} {r['writes']:>7,} {r['read_p99_us'] / 1000:>7.2f}ms "
              f"{r['write_p99_us'] / 1000:>8.2f}ms {r['write_max_us'] / 1000:>8.1f}ms {r['locked_errors']:>6}  "
              f"{other or 'none'}")


__all__ = ["run_concurrency", "work"]
