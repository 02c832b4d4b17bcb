"""The ``peewee-authjs`` command: one subcommand per function.

::

    peewee-authjs demo [--host 127.0.0.1] [--port 5000] [--database sqlite:///authjs-demo.db]
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence


def add_demo(subcommands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``demo``: run the example Flask app (needs the ``flask`` extra)."""
    parser = subcommands.add_parser(
        "demo",
        help="run the example Flask app: e-mail sign-in with the links printed here",
        description="Run the example Flask app on SQLite: e-mail sign-in with the links printed "
        "on this console, the signed-in user and their sessions, sign out (other devices).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    parser.add_argument("--port", type=int, default=5000, help="port to listen on (default: %(default)s)")
    parser.add_argument(
        "--database",
        default="sqlite:///authjs-demo.db",
        help="database URL (default: %(default)s, a file in the current directory)",
    )
    parser.set_defaults(handler=demo)


def demo(args: argparse.Namespace) -> int:
    """Run the demo until interrupted."""
    try:
        from peewee_authjs.demo import run
    except ImportError as exc:  # Flask is an optional extra
        raise SystemExit(
            f"peewee-authjs demo needs Flask: pip install 'peewee-authjs[flask]' ({exc})"
        ) from None
    run(args.host, args.port, args.database)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run the chosen subcommand; its exit status."""
    parser = argparse.ArgumentParser(
        prog="peewee-authjs", description="Auth.js's database adapter on Peewee."
    )
    subcommands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_demo(subcommands)
    args = parser.parse_args(argv)
    status: int = args.handler(args)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
