"""``python -m benchmarks --scale``: a million users in one SQLite file.

Seeds ``--scale-users`` users (default 1,000,000), each with an account and a
session (every other session expired), plus a tenth as many verification tokens
(half expired), through the adapter's tables in transactions of 10,000 users;
measures the latency of ``get_session_and_user`` at 10,000 users and at the full
size (p50/p99 over random tokens), the seeding rate, the file size and the peak
memory; then runs :func:`peewee_authjs.cleanup.delete_expired` on the full
database while a reader and a writer thread keep serving, and reports its time
and what the app saw meanwhile. The file is deleted at the end.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import threading
import time
from datetime import datetime
from datetime import timedelta
from datetime import timezone
from typing import Any

from benchmarks import seed
from benchmarks.run import sqlite_file
from benchmarks.seed import Seeder
from benchmarks.timing import percentile
from peewee_authjs import AdapterError
from peewee_authjs import PeeweeAdapter
from peewee_authjs.cleanup import delete_expired


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _size(path: str) -> int:
    return sum(os.path.getsize(path + suffix) for suffix in ("", "-wal") if os.path.exists(path + suffix))


def peak_memory_mb() -> float:
    """This process's peak resident memory (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def read_latencies(adapter: PeeweeAdapter, users: int, count: int, rng: random.Random) -> dict[str, float]:
    """p50/p99/max (µs) of get_session_and_user over ``count`` random seeded tokens (after a warm-up)."""
    tokens = [seed.session_token(rng.randrange(users)) for _ in range(count)]
    for token in tokens[:1000]:
        adapter.get_session_and_user(token)
    times = []
    clock = time.perf_counter_ns
    for token in tokens:
        start = clock()
        found = adapter.get_session_and_user(token)
        times.append((clock() - start) / 1000)
        assert found is not None
    times.sort()
    return {"p50_us": percentile(times, 0.50), "p99_us": percentile(times, 0.99), "max_us": times[-1],
            "lookups": count}


def _serve_during(adapter: PeeweeAdapter, users: int, stop: threading.Event, seen: dict[str, Any]) -> None:
    """Reads (and one write in ten) against the database until ``stop``; latencies and errors in ``seen``."""
    rng = random.Random(7)
    later = datetime.now(timezone.utc) + timedelta(days=60)
    times: list[float] = []
    errors: dict[str, int] = {}
    try:
        while not stop.is_set():
            token = seed.session_token(rng.randrange(users))
            start = time.perf_counter()
            try:
                if rng.random() < 0.1:
                    adapter.update_session({"session_token": token, "expires": later})
                else:
                    adapter.get_session_and_user(token)
            except AdapterError as exc:
                kind = "database is locked" if "locked" in str(exc) else type(exc).__name__
                errors[kind] = errors.get(kind, 0) + 1
            times.append((time.perf_counter() - start) * 1e6)
    finally:
        adapter.database.close()
    times.sort()
    seen.update(
        calls=len(times),
        p50_us=percentile(times, 0.5),
        p99_us=percentile(times, 0.99),
        max_us=times[-1] if times else float("nan"),
        errors=errors,
    )


def run_scale(args: argparse.Namespace) -> dict[str, Any]:
    users = args.scale_users
    now = datetime.now(timezone.utc)
    rng = random.Random(args.seed)
    data: dict[str, Any] = {"users": users}
    with sqlite_file(args.tmp) as path:
        adapter = PeeweeAdapter(f"sqlite:///{path}")
        adapter.create_tables()
        seeder = Seeder(adapter)
        first = min(10_000, users)
        started = time.perf_counter()
        seeder.seed_users(0, first, now, expired_every=2, authenticators=False)
        data["at_10k"] = read_latencies(adapter, first, 20_000, rng)
        _say(f"10,000 users: get_session_and_user {data['at_10k']}")

        seeding_started = time.perf_counter()

        def report(done: int) -> None:
            if done % 100_000 == 0:
                rate = (done - first) / (time.perf_counter() - seeding_started)
                _say(f"  seeded {done:,} users ({rate:,.0f} users/s, {_size(path) / 1e6:,.0f} MB)")

        seeder.seed_users(first, users, now, expired_every=2, authenticators=False, progress=report)
        tokens = users // 10
        seeder.seed_tokens(0, tokens, now, expired_every=2)
        seconds = time.perf_counter() - started
        adapter.database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        data["seeding"] = {
            "seconds": seconds,
            "users_per_second": users / seconds,
            "rows": users * 3 + tokens,
            "rows_per_second": (users * 3 + tokens) / seconds,
        }
        data["file_mb"] = _size(path) / 1e6
        _say(f"seeded {users:,} users + accounts + sessions and {tokens:,} tokens in {seconds:.0f} s; "
             f"file {data['file_mb']:,.0f} MB")
        data[f"at_{users // 1000}k"] = full = read_latencies(adapter, users, 20_000, rng)
        data["p99_ratio"] = full["p99_us"] / data["at_10k"]["p99_us"]
        data["p50_ratio"] = full["p50_us"] / data["at_10k"]["p50_us"]
        _say(f"{users:,} users: get_session_and_user {full}")

        # Cleanup of the full database while the app keeps serving from another thread.
        stop = threading.Event()
        seen: dict[str, Any] = {}
        server = threading.Thread(target=_serve_during, args=(PeeweeAdapter(f"sqlite:///{path}"), users,
                                                               stop, seen))
        server.start()
        try:
            result = delete_expired(adapter)
        finally:
            stop.set()
            server.join()
        data["cleanup"] = {
            "sessions": result.sessions,
            "verification_tokens": result.verification_tokens,
            "batches": result.batches,
            "seconds": result.seconds,
            "rows_per_second": result.total / result.seconds,
            "served_meanwhile": seen,
        }
        _say(f"cleanup: {result}; meanwhile the app: {seen}")
        data["peak_memory_mb"] = peak_memory_mb()
        adapter.database.close()
    print_scale(data)
    return data


def print_scale(data: dict[str, Any]) -> None:
    users = data["users"]
    full = data[f"at_{users // 1000}k"]
    small = data["at_10k"]
    seeding = data["seeding"]
    cleanup = data["cleanup"]
    served = cleanup["served_meanwhile"]
    print(f"\nscale: {users:,} users, each with an account and a session, in one SQLite file")
    print(f"  seeding          {seeding['seconds']:,.0f} s ({seeding['rows_per_second']:,.0f} rows/s, "
          f"{seeding['rows']:,} rows)")
    print(f"  file size        {data['file_mb']:,.0f} MB")
    print(f"  peak memory      {data['peak_memory_mb']:,.0f} MB (this process, seeding included)")
    print("  get_session_and_user latency      p50        p99")
    print(f"    at 10,000 users             {small['p50_us']:7.1f} µs {small['p99_us']:7.1f} µs")
    print(f"    at {users:,} users       {full['p50_us']:7.1f} µs {full['p99_us']:7.1f} µs"
          f"   (p99 ratio {data['p99_ratio']:.2f}, goal <= 2)")
    print(f"  cleanup          {cleanup['sessions']:,} sessions + {cleanup['verification_tokens']:,} tokens "
          f"in {cleanup['seconds']:.1f} s ({cleanup['rows_per_second']:,.0f} rows/s, "
          f"{cleanup['batches']:,} batches)")
    print(f"    app meanwhile  {served['calls']:,} calls, p50 {served['p50_us']:.0f} µs, "
          f"p99 {served['p99_us']:.0f} µs, max {served['max_us'] / 1000:.0f} ms, errors {served['errors']}")
