"""The ``peewee-authjs`` command: migrate and status, the URL default, exit codes, extension."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest
from peewee import Database

from peewee_authjs import cli
from peewee_authjs.migrations import DIRECTORY
from tests import sequelize_tables as sq
from tests.backends import backend_url

NAMES = [path.stem for path in sorted(DIRECTORY.glob("[0-9]*.py"))]
SQLITE_ONLY = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[str], str]:
    """Run the command line; its exit status, stdout lines and stderr."""
    status = cli.main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out.splitlines(), captured.err


def test_migrate_prints_each_migration_then_nothing_to_do(
    database: Database, backend: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """On every backend: one line per applied migration, exit 0; a second run says there is nothing to do."""
    url = backend_url(backend, tmp_path)
    assert run(capsys, "migrate", url) == (0, [f"applied {name}" for name in NAMES], "")
    assert run(capsys, "migrate", url) == (0, ["nothing to do: the schema is up to date"], "")
    assert database.table_exists("authenticators")


@SQLITE_ONLY
def test_url_defaults_to_database_url(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without a URL argument the command uses $DATABASE_URL."""
    monkeypatch.setenv("DATABASE_URL", backend_url("sqlite", tmp_path))
    status, out, _ = run(capsys, "migrate")
    assert status == 0 and len(out) == len(NAMES)
    assert database.table_exists("users")


def test_no_url_at_all_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Neither a URL nor $DATABASE_URL: exit 2 and a message saying how to give one."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    for command in ("migrate", "status"):
        status, out, err = run(capsys, command)
        assert status == 2 and out == []
        assert "DATABASE_URL" in err and "sqlite:///" in err


@SQLITE_ONLY
def test_status_lists_pending_then_applied(
    database: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """status marks each migration pending, then applied with its UTC date, and sums them up."""
    url = backend_url("sqlite", tmp_path)
    status, out, _ = run(capsys, "status", url)
    assert status == 0
    assert [line.split() for line in out[:-1]] == [["[", "]", name, "pending"] for name in NAMES]
    assert out[-1] == f"0 applied, {len(NAMES)} pending"
    run(capsys, "migrate", url)
    status, out, _ = run(capsys, "status", url)
    assert [line.split()[:2] for line in out[:-1]] == [["[x]", name] for name in NAMES]
    assert all(line.endswith(" UTC") for line in out[:-1])
    assert out[-1] == f"{len(NAMES)} applied, 0 pending"


@SQLITE_ONLY
def test_verbose_prints_each_step_before_its_migration(
    database: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``migrate -v`` shows what each migration did (indented), ahead of the line saying it was applied."""
    sq.create_tables(database, "sqlite")
    status, out, _ = run(capsys, "migrate", "-v", backend_url("sqlite", tmp_path))
    assert status == 0
    step = out.index("  created table authenticators")
    assert step < out.index("applied 0002_create_tables")
    assert (
        "  accounts: created unique index accounts_provider_provider_account_id on (provider, provider_account_id)"
        in out
    )


@SQLITE_ONLY
def test_a_migration_error_exits_1_with_the_message_only(
    database: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Duplicate accounts: exit 1, the reason on stderr, no traceback, nothing applied."""
    sq.create_tables(database, "sqlite")
    sq.insert_rows(database, "sqlite")
    sq.insert(
        database, "accounts", id=sq.SESSION_1, type="oauth", provider="github", provider_account_id="gh-1"
    )
    status, out, err = run(capsys, "migrate", backend_url("sqlite", tmp_path))
    assert status == 1 and out == []
    assert err.startswith("peewee-authjs migrate: ") and sq.SESSION_1 in err
    assert "Traceback" not in err
    assert not database.table_exists("authenticators")


def test_an_unreachable_database_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    """A server that does not answer is reported in one message, exit 1."""
    status, _, err = run(capsys, "status", "postgresql://nobody@127.0.0.1:1/nothing")
    assert status == 1 and "cannot open the database" in err and "Traceback" not in err


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    """No subcommand, an unknown one, or an extra argument: exit 2 with argparse's usage message."""
    for argv in ([], ["frobnicate"], ["status", "sqlite:///a.db", "extra"]):
        status, _, err = run(capsys, *argv)
        assert status == 2 and "usage: peewee-authjs" in err


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    """--help lists every subcommand of the table."""
    status, out, _ = run(capsys, "--help")
    assert status == 0
    for name in cli.COMMANDS:
        assert any(line.strip().startswith(name) for line in out)


def test_a_subcommand_is_added_with_one_table_entry(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Another part adds a subcommand with a function and one COMMANDS entry; the URL helpers apply to it."""

    def hello(args: argparse.Namespace) -> int:
        print(f"hello {cli.database_url(args)}")
        return 0

    monkeypatch.setitem(cli.COMMANDS, "hello", cli.Command("say hello", hello, cli.add_url_argument))
    assert run(capsys, "hello", "sqlite:///x.db") == (0, ["hello sqlite:///x.db"], "")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert run(capsys, "hello")[0] == 2


@SQLITE_ONLY
def test_python_dash_m_runs_the_command(database: Database, tmp_path: Path) -> None:
    """``python -m peewee_authjs`` is the same command (here: migrate in a subprocess)."""
    url = backend_url("sqlite", tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "peewee_authjs", "migrate", url], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [f"applied {name}" for name in NAMES]


@SQLITE_ONLY
def test_verbose_before_the_subcommand_counts_too(
    database: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``peewee-authjs -v migrate`` prints the steps as ``migrate -v`` does; without -v they are not printed."""
    url = backend_url("sqlite", tmp_path)
    status, out, _ = run(capsys, "-v", "migrate", url)
    assert status == 0 and "  created table users" in out
    run(capsys, "-v", "status", url)
    assert all(not line.startswith("  ") for line in run(capsys, "status", url)[1])
