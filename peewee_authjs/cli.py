"""The ``peewee-authjs`` command: one function per subcommand.

::

    peewee-authjs demo [--host 127.0.0.1] [--port 5000] [--database sqlite:///authjs-demo.db]

Each subcommand is a function ``(args) -> exit status``, a function that declares its
arguments, and an entry in :data:`COMMANDS`.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass

PROG = "peewee-authjs"


@dataclass(frozen=True)
class Command:
    """One subcommand: its one-line help, what it runs, and the arguments it declares."""

    help: str
    run: Callable[[argparse.Namespace], int]
    arguments: Callable[[argparse.ArgumentParser], None] | None = None


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


#: The subcommands, by name.
COMMANDS: dict[str, Command] = {
    "demo": Command(
        "run the example Flask app on SQLite: e-mail sign-in with the links printed on this console, "
        "the signed-in user and their sessions, sign out (other devices)",
        demo,
        add_demo_arguments,
    ),
}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, one subparser per entry of :data:`COMMANDS`."""
    parser = argparse.ArgumentParser(prog=PROG, description="Auth.js's database adapter on Peewee.")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, command in COMMANDS.items():
        sub = subparsers.add_parser(name, help=command.help, description=command.help)
        if command.arguments is not None:
            command.arguments(sub)
        sub.set_defaults(run=command.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run the chosen subcommand; its exit status."""
    args = build_parser().parse_args(argv)
    status: int = args.run(args)
    return status


__all__ = ["COMMANDS", "Command", "add_demo_arguments", "build_parser", "demo", "main"]

if __name__ == "__main__":
    raise SystemExit(main())
