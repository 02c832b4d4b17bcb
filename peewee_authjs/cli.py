"""The ``peewee-authjs`` command (also ``python -m peewee_authjs``).

::

    peewee-authjs migrate sqlite:///auth.db     # apply the pending migrations, one line each
    DATABASE_URL=postgresql://app@db/app peewee-authjs status
    peewee-authjs cleanup sqlite:///auth.db     # delete expired sessions and tokens (cron)

The URL defaults to ``$DATABASE_URL``, as in the Auth.js Sequelize docs. Exit
status: 0 when it worked, 1 when the database could not be migrated or reached
(the message says why; no traceback), 2 on a usage error.

Each subcommand is a function ``(args) -> exit status`` plus an entry in
:data:`COMMANDS`; to add one, write the function (and, if it takes arguments,
a function that declares them) and add a :class:`Command`::

    def cleanup(args: argparse.Namespace) -> int:
        adapter = PeeweeAdapter(database_url(args))
        ...
        return 0

    COMMANDS["cleanup"] = Command("delete expired sessions and tokens", cleanup, add_url_argument)
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from typing import TextIO

from peewee import PeeweeException

from peewee_authjs import migrate as migrations
from peewee_authjs.errors import AdapterError

PROG = "peewee-authjs"

#: The environment variable that holds the database URL when none is given.
URL_ENV = "DATABASE_URL"


class UsageError(Exception):
    """The command line is incomplete or wrong (exit status 2)."""


@dataclass(frozen=True)
class Command:
    """One subcommand: its one-line help, what it runs, and the arguments it declares."""

    help: str
    run: Callable[[argparse.Namespace], int]
    arguments: Callable[[argparse.ArgumentParser], None] | None = None


# --- shared arguments ------------------------------------------------------------------------


def add_url_argument(parser: argparse.ArgumentParser) -> None:
    """Declare the optional positional ``URL`` (default: ``$DATABASE_URL``)."""
    parser.add_argument(
        "url",
        nargs="?",
        metavar="URL",
        help=f"database URL, e.g. sqlite:///auth.db or postgresql://user@host/db (default: ${URL_ENV})",
    )


def database_url(args: argparse.Namespace) -> str:
    """The URL given on the command line, else ``$DATABASE_URL``; a UsageError when neither is set."""
    url = getattr(args, "url", None) or os.environ.get(URL_ENV)
    if not url:
        raise UsageError(f"no database: give its URL (e.g. sqlite:///auth.db) or set {URL_ENV}")
    return str(url)


# --- subcommands -----------------------------------------------------------------------------


def run_migrate(args: argparse.Namespace) -> int:
    """Apply the pending migrations; one line per migration applied, or "nothing to do"."""
    applied = migrations.migrate(database_url(args), on_applied=lambda name: print(f"applied {name}"))
    if not applied:
        print("nothing to do: the schema is up to date")
    return 0


def run_status(args: argparse.Namespace) -> int:
    """List every migration, applied (with its UTC date) or pending."""
    rows = migrations.status(database_url(args))
    width = max((len(name) for name, _ in rows), default=0)
    for name, applied in rows:
        mark, when = ("x", f"{applied:%Y-%m-%d %H:%M:%S} UTC") if applied else (" ", "pending")
        print(f"[{mark}] {name:<{width}}  {when}")
    pending = sum(1 for _, applied in rows if applied is None)
    print(f"{len(rows) - pending} applied, {pending} pending")
    return 0


# --- demo --------------------------------------------------------------------------------------


def add_demo_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare ``--host``, ``--port`` and ``--database`` of ``demo``."""
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    parser.add_argument("--port", type=int, default=5000, help="port to listen on (default: %(default)s)")
    parser.add_argument(
        "--database",
        default="sqlite:///authjs-demo.db",
        metavar="URL",
        help="database URL (default: %(default)s, a file in the current directory)",
    )


def demo(args: argparse.Namespace) -> int:
    """Run the example Flask app until interrupted (needs the ``flask`` extra)."""
    try:
        from peewee_authjs.demo import run
    except ImportError as exc:  # Flask is an optional extra
        raise SystemExit(f"{PROG} demo needs Flask: pip install 'peewee-authjs[flask]' ({exc})") from None
    run(args.host, args.port, args.database)
    return 0


# --- cleanup -----------------------------------------------------------------------------------


def add_cleanup_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare ``[URL] [--batch-size N] [--quiet]`` of ``cleanup``."""
    from peewee_authjs.cleanup import DEFAULT_BATCH_SIZE

    add_url_argument(parser)
    parser.add_argument(
        "--batch-size",
        type=int,
        default=DEFAULT_BATCH_SIZE,
        metavar="N",
        help="rows per DELETE, each its own short transaction (default: %(default)s)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar and no summary")


def run_cleanup(args: argparse.Namespace) -> int:
    """Delete expired sessions and verification tokens in batches; a bar on a terminal, then a summary."""
    from peewee_authjs.cleanup import ProgressBar
    from peewee_authjs.cleanup import delete_expired

    bar = ProgressBar(sys.stderr) if not args.quiet and sys.stderr.isatty() else None
    try:
        result = delete_expired(database_url(args), batch_size=args.batch_size, progress=bar)
    finally:
        if bar is not None:
            bar.close()
    if not args.quiet:
        print(result)
    return 0


#: The subcommands, by name, in the order ``--help`` lists them.
COMMANDS: dict[str, Command] = {
    "migrate": Command(
        "create or adopt the Auth.js tables: apply the pending migrations", run_migrate, add_url_argument
    ),
    "status": Command("list the migrations and when each was applied", run_status, add_url_argument),
    "cleanup": Command(
        "delete expired sessions and verification tokens, in small batches",
        run_cleanup,
        add_cleanup_arguments,
    ),
    "demo": Command(
        "run the example Flask app on SQLite: e-mail sign-in with the links printed on this console, "
        "the signed-in user and their sessions, sign out (other devices)",
        demo,
        add_demo_arguments,
    ),
}


# --- entry point -----------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, one subparser per entry of :data:`COMMANDS`."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Auth.js's database adapter on Peewee: schema and maintenance commands.",
    )
    verbose_help = "also print each step as it is done"
    parser.add_argument("-v", "--verbose", action="store_true", help=verbose_help)
    # Also accepted after the subcommand; SUPPRESS keeps a -v given before it.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help=verbose_help)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, command in COMMANDS.items():
        sub = subparsers.add_parser(name, help=command.help, description=command.help, parents=[common])
        if command.arguments is not None:
            command.arguments(sub)
        sub.set_defaults(run=command.run)
    return parser


class _Steps:
    """With ``--verbose``: print the INFO messages of ``peewee_authjs`` (each step of a migration)."""

    def __init__(self, stream: TextIO) -> None:
        self.logger = logging.getLogger("peewee_authjs")
        self.handler = logging.StreamHandler(stream)
        self.handler.setFormatter(logging.Formatter("  %(message)s"))
        self.level = self.logger.level

    def __enter__(self) -> None:
        self.logger.addHandler(self.handler)
        self.logger.setLevel(logging.INFO)

    def __exit__(self, *exc_info: object) -> None:
        self.logger.removeHandler(self.handler)
        self.logger.setLevel(self.level)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default: ``sys.argv[1:]``) and return the exit status."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        return exc.code if isinstance(exc.code, int) else 2
    try:
        with _Steps(sys.stdout) if args.verbose else nullcontext():
            status: int = args.run(args)
        return status
    except UsageError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except (AdapterError, PeeweeException) as exc:
        print(f"{PROG} {args.command}: {exc}", file=sys.stderr)
        return 1


__all__ = [
    "COMMANDS",
    "Command",
    "UsageError",
    "add_demo_arguments",
    "add_url_argument",
    "build_parser",
    "database_url",
    "demo",
    "main",
]
