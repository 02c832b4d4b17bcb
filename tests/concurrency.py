"""Running one adapter operation from many threads or processes at the same instant.

Each racer runs ``op(adapter, index, arg)`` after a barrier and reports an
:data:`Outcome`: ``("ok", value)``, ``("error", "DuplicateError")`` for the
library's own errors, or ``("unexpected", traceback)`` for anything else, so the
test can assert on every racer. Operations are module-level functions so that
spawned processes can import them; each process opens its own
``PeeweeAdapter(url)``. Threads share one adapter: Peewee gives each thread its
own connection, which the thread closes before it ends.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
import traceback
from collections.abc import Callable
from datetime import datetime
from datetime import timedelta
from datetime import timezone
from typing import Any

from peewee_authjs import PeeweeAdapter
from peewee_authjs.errors import AdapterError
from peewee_authjs.errors import NotFoundError

Outcome = tuple[str, Any]
Op = Callable[[PeeweeAdapter, int, Any], Any]

#: Seconds a racer waits at the barrier or the parent waits for a racer before the test fails.
WAIT = 60.0

EXPIRES = datetime(2031, 1, 1, tzinfo=timezone.utc)


def outcome(op: Op, adapter: PeeweeAdapter, index: int, arg: Any) -> Outcome:
    """Run ``op`` and classify what happened."""
    try:
        return ("ok", op(adapter, index, arg))
    except AdapterError as exc:
        return ("error", type(exc).__name__)
    except Exception:  # reported to the test, which fails on it
        return ("unexpected", traceback.format_exc())


def race_threads(adapter: PeeweeAdapter, op: Op, n: int, arg: Any) -> list[Outcome]:
    """Run ``op`` in ``n`` threads released together; the outcomes by thread index."""
    barrier = threading.Barrier(n)
    results: list[Outcome] = [("unexpected", "thread did not finish")] * n

    def racer(index: int) -> None:
        try:
            barrier.wait(WAIT)
            results[index] = outcome(op, adapter, index, arg)
        finally:
            adapter.database.close()

    threads = [threading.Thread(target=racer, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    return results


def _process_racer(url: str, op: Op, index: int, arg: Any, barrier: Any, queue: Any) -> None:
    adapter = PeeweeAdapter(url)
    try:
        adapter.database.connect()
        barrier.wait(WAIT)
        queue.put((index, outcome(op, adapter, index, arg)))
    finally:
        adapter.database.close()


def race_processes(url: str, op: Op, n: int, arg: Any) -> list[Outcome]:
    """Run ``op`` in ``n`` spawned processes, each with its own adapter on ``url``; the outcomes."""
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(n)
    queue = ctx.Queue()
    processes = [ctx.Process(target=_process_racer, args=(url, op, i, arg, barrier, queue)) for i in range(n)]
    for process in processes:
        process.start()
    results: list[Outcome] = [("unexpected", "process reported nothing")] * n
    try:
        for _ in range(n):
            index, result = queue.get(timeout=WAIT)
            results[index] = result
    finally:
        for process in processes:
            process.join(WAIT)
            if process.is_alive():
                process.kill()
                process.join()
        queue.close()
        queue.join_thread()
    return results


def errors_other_than(outcomes: list[Outcome], allowed: tuple[str, ...] = ()) -> list[Outcome]:
    """The outcomes that are neither ``ok`` nor one of the ``allowed`` library errors."""
    return [o for o in outcomes if o[0] != "ok" and not (o[0] == "error" and o[1] in allowed)]


# -- the racing operations ----------------------------------------------------------------------


def use_token(adapter: PeeweeAdapter, index: int, arg: dict[str, str]) -> Any:
    """Spend the verification token ``arg`` (identifier and token)."""
    return adapter.use_verification_token(arg["identifier"], arg["token"])


def link_same_account(adapter: PeeweeAdapter, index: int, user_id: str) -> Any:
    """Link the same GitHub account to ``user_id`` (a first sign-in arriving twice)."""
    return adapter.link_account(
        {
            "user_id": user_id,
            "type": "oauth",
            "provider": "github",
            "provider_account_id": "4242",
            "access_token": f"gho_racer{index}",
        }
    )


def create_same_email(adapter: PeeweeAdapter, index: int, email: str) -> Any:
    """Create a user with the e-mail ``email``."""
    return adapter.create_user({"email": email, "name": f"racer {index}"})


def update_one_session(adapter: PeeweeAdapter, index: int, token: str) -> Any:
    """Set the session's expiry to a value that says which racer wrote it."""
    return adapter.update_session({"session_token": token, "expires": EXPIRES + timedelta(minutes=index)})


def delete_or_sign_in(adapter: PeeweeAdapter, index: int, arg: dict[str, Any]) -> Any:
    """Racer 0 deletes the user once ``arg["wait_for"]`` sessions exist; the others keep signing in.

    A signing-in racer creates a session and links an account per round, until the user is gone
    (NotFoundError) or ``arg["rounds"]`` rounds have passed; it returns one outcome per call.
    """
    user_id = arg["user_id"]
    if index == 0:
        Session = adapter.models.Session
        for _ in range(arg["rounds"] * 10):
            if Session.select().where(Session.user == user_id).count() >= arg["wait_for"]:
                break
            time.sleep(0.001)
        return adapter.delete_user(user_id)
    calls: list[str] = []
    for round_ in range(arg["rounds"]):
        try:
            if round_ % 2 == 0:
                adapter.create_session(
                    {"session_token": f"s-{index}-{round_}", "user_id": user_id, "expires": EXPIRES}
                )
            else:
                adapter.link_account(
                    {
                        "user_id": user_id,
                        "type": "oauth",
                        "provider": "github",
                        "provider_account_id": f"{index}-{round_}",
                    }
                )
            calls.append("ok")
            time.sleep(0.001)  # leave the writer lock free now and then (SQLite's busy wait is not fair)
        except NotFoundError:
            calls.append("NotFoundError")
            break
    return calls


# -- a writer to be killed ----------------------------------------------------------------------


def write_until_killed(url: str, report_path: str, rounds: int = 100_000) -> None:
    """Sign users up and delete some, reporting each operation once it has returned.

    A sign-up is one transaction of the caller (user, account and session: all or nothing);
    every third round also deletes the previous user (``delete_user``'s own transaction).
    Each report line is flushed before the next operation starts; a deletion is announced
    (``deleting``) before it starts and reported (``deleted``) once it has returned.
    """
    adapter = PeeweeAdapter(url)
    db = adapter.database
    tag = os.getpid()
    previous: str | None = None
    with open(report_path, "a", encoding="utf-8") as report:
        for i in range(rounds):
            with db.atomic():
                user = adapter.create_user({"email": f"w{tag}-{i}@example.com"})
                adapter.link_account(
                    {
                        "user_id": user["id"],
                        "type": "oauth",
                        "provider": "github",
                        "provider_account_id": f"{tag}-{i}",
                    }
                )
                adapter.create_session(
                    {"session_token": f"{tag}-{i}", "user_id": user["id"], "expires": EXPIRES}
                )
            report.write(f"created {user['id']}\n")
            report.flush()
            if i % 3 == 2 and previous is not None:
                report.write(f"deleting {previous}\n")
                report.flush()
                adapter.delete_user(previous)
                report.write(f"deleted {previous}\n")
                report.flush()
            previous = user["id"]
    db.close()
