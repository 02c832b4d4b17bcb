"""Why ``PeeweeAdapter(url)`` opens SQLite with WAL, synchronous=normal and a busy timeout.

Runs the same work on a SQLite file opened two ways, in one run:

- ``default``: ``SqliteDatabase(path)`` as Peewee opens it (rollback journal, synchronous=FULL,
  foreign keys off, Python's 5 s timeout);
- ``library``: ``peewee_authjs.database.SQLITE_PRAGMAS``.

and reports, for each: session writes/s (create_session, one commit each), session reads/s, and a mixed
load of reader threads plus one writer thread (reads/s, writes/s, errors). Usage::

    python -m benchmarks.pragmas [--seconds 2] [--threads 4]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from peewee import SqliteDatabase

from peewee_authjs import AdapterError
from peewee_authjs import PeeweeAdapter
from peewee_authjs import utcnow
from peewee_authjs.database import SQLITE_PRAGMAS

OPENERS: dict[str, Callable[[Path], SqliteDatabase]] = {
    "default": lambda path: SqliteDatabase(str(path)),
    "library": lambda path: SqliteDatabase(str(path), pragmas=dict(SQLITE_PRAGMAS)),
}


def _seed(adapter: PeeweeAdapter, users: int) -> tuple[list[str], list[str]]:
    user_ids, tokens = [], []
    expires = utcnow() + timedelta(days=30)
    with adapter.database.atomic():
        for number in range(users):
            user = adapter.create_user({"email": f"user{number}@example.com"})
            token = str(uuid.uuid4())
            adapter.create_session({"session_token": token, "user_id": user["id"], "expires": expires})
            user_ids.append(user["id"])
            tokens.append(token)
    return user_ids, tokens


def _rate(work: Callable[[int], Any], seconds: float) -> float:
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        work(done)
        done += 1
    return done / (time.perf_counter() - start)


def measure(name: str, seconds: float, threads: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.db"
        adapter = PeeweeAdapter(OPENERS[name](path))
        adapter.create_tables()
        user_ids, tokens = _seed(adapter, 2000)
        expires = utcnow() + timedelta(days=30)

        def write(number: int) -> None:
            adapter.create_session(
                {
                    "session_token": str(uuid.uuid4()),
                    "user_id": user_ids[number % len(user_ids)],
                    "expires": expires,
                }
            )

        def read(number: int) -> None:
            adapter.get_session_and_user(tokens[number % len(tokens)])

        result = {"writes/s": _rate(write, seconds), "reads/s": _rate(read, seconds)}

        stop = threading.Event()
        counts = {"reads": 0, "writes": 0, "errors": 0}
        lock = threading.Lock()

        def worker(kind: str) -> None:
            number = 0
            while not stop.is_set():
                try:
                    (write if kind == "writes" else read)(number)
                    key = kind
                except AdapterError:
                    key = "errors"
                with lock:
                    counts[key] += 1
                number += 1
            adapter.database.close()

        pool = [threading.Thread(target=worker, args=("reads",)) for _ in range(threads - 1)]
        pool.append(threading.Thread(target=worker, args=("writes",)))
        for thread in pool:
            thread.start()
        time.sleep(seconds)
        stop.set()
        for thread in pool:
            thread.join()
        result["mixed reads/s"] = counts["reads"] / seconds
        result["mixed writes/s"] = counts["writes"] / seconds
        result["mixed errors"] = counts["errors"]
        adapter.database.close()
        return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in OPENERS}
    for _ in range(args.repeat):  # interleaved, so both see the same machine load
        for name in OPENERS:
            runs[name].append(measure(name, args.seconds, args.threads))
    metrics = list(runs["default"][0])
    print(f"{'median of ' + str(args.repeat):<16}" + "".join(f"{m:>16}" for m in metrics))
    for name, results in runs.items():
        row = [statistics.median(r[m] for r in results) for m in metrics]
        print(f"{name:<16}" + "".join(f"{value:>16.0f}" for value in row))


if __name__ == "__main__":
    main()
