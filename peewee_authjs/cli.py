"""The ``peewee-authjs`` command.

::

    peewee-authjs cleanup sqlite:///auth.db     # delete expired sessions and verification tokens

The URL defaults to ``$DATABASE_URL``. Exit status: 0 when it worked, 1 when the
database failed (the message says why; no traceback), 2 on a usage error.

Each subcommand is a function ``(args) -> exit status`` plus an entry in
:data:`COMMANDS`.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass

from peewee import PeeweeException

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


# --- cleanup ---------------------------------------------------------------------------------


def add_cleanup_arguments(parser: argparse.ArgumentParser) -> None:
    """``cleanup [URL] [--batch-size N] [--quiet]``."""
    from peewee_authjs.cleanup import DEFAULT_BATCH_SIZE

    add_url_argument(parser)
    parser.add_argument(
        "--batch-size",
        type=int,
        default=DEFAULT_BATCH_SIZE,
        metavar="N",
        help=f"rows per DELETE, each its own short transaction (default {DEFAULT_BATCH_SIZE})",
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
    "cleanup": Command(
        "delete expired sessions and verification tokens, in small batches", run_cleanup, add_cleanup_arguments
    ),
}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, one subparser per entry of :data:`COMMANDS`."""
    parser = argparse.ArgumentParser(
        prog=PROG, description="Auth.js's database adapter on Peewee: maintenance commands."
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, command in COMMANDS.items():
        sub = subparsers.add_parser(name, help=command.help, description=command.help)
        if command.arguments is not None:
            command.arguments(sub)
        sub.set_defaults(run=command.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default: ``sys.argv[1:]``); the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        status: int = args.run(args)
    except UsageError as exc:
        parser.error(str(exc))
    except (AdapterError, PeeweeException) as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 1
    return status


__all__ = ["COMMANDS", "Command", "UsageError", "add_url_argument", "build_parser", "database_url", "main"]
