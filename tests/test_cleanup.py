"""``delete_expired`` and ``peewee-authjs cleanup``, on every backend."""

from __future__ import annotations

import uuid
from datetime import datetime
from datetime import timedelta
from datetime import timezone
from pathlib import Path

import pytest
from peewee import Database

from peewee_authjs import InvalidInputError
from peewee_authjs import PeeweeAdapter
from peewee_authjs.cleanup import CleanupResult
from peewee_authjs.cleanup import ProgressBar
from peewee_authjs.cleanup import delete_expired
from peewee_authjs.cli import main
from tests.helpers import count

UTC = timezone.utc
NOW = datetime(2030, 1, 1, 12, 0, 0, 0, tzinfo=UTC)


def _user(adapter: PeeweeAdapter) -> str:
    return str(adapter.create_user({"email": f"{uuid.uuid4().hex[:10]}@example.com"})["id"])


def _sessions(adapter: PeeweeAdapter, user_id: str, *expires: datetime) -> list[str]:
    tokens = []
    for when in expires:
        token = uuid.uuid4().hex
        adapter.create_session({"session_token": token, "user_id": user_id, "expires": when})
        tokens.append(token)
    return tokens


def _tokens(adapter: PeeweeAdapter, *expires: datetime) -> list[str]:
    tokens = []
    for when in expires:
        token = uuid.uuid4().hex
        adapter.create_verification_token({"identifier": "a@example.com", "token": token, "expires": when})
        tokens.append(token)
    return tokens


def test_only_expired_rows_go_and_expiring_now_stays(adapter: PeeweeAdapter, database: Database) -> None:
    """Rows with expires < now are deleted; expires == now (still valid for Auth.js) and later stay."""
    user_id = _user(adapter)
    ms = timedelta(milliseconds=1)
    gone = _sessions(adapter, user_id, NOW - timedelta(days=400), NOW - ms)
    kept = _sessions(adapter, user_id, NOW, NOW + ms, NOW + timedelta(days=30))
    gone_tokens = _tokens(adapter, NOW - timedelta(hours=1), NOW - ms)
    kept_tokens = _tokens(adapter, NOW, NOW + timedelta(hours=1))

    result = delete_expired(adapter, now=NOW)

    assert (result.sessions, result.verification_tokens) == (2, 2)
    assert result.total == 4
    assert [adapter.get_session_and_user(t) for t in gone] == [None, None]
    assert all(adapter.get_session_and_user(t) is not None for t in kept)
    assert count(database, "verification_tokens") == 2
    for token in gone_tokens:
        assert adapter.use_verification_token("a@example.com", token) is None
    for token in kept_tokens:
        assert adapter.use_verification_token("a@example.com", token) is not None
    assert adapter.get_user(user_id) is not None  # users are never touched


def test_batches_are_bounded_and_counted(adapter: PeeweeAdapter, database: Database) -> None:
    """batch_size caps each DELETE; a short batch ends a table (5 rows by 2: 2+2+1; 4 by 2: 2+2+0)."""
    user_id = _user(adapter)
    _sessions(adapter, user_id, *[NOW - timedelta(minutes=m) for m in range(1, 6)])
    _tokens(adapter, *[NOW - timedelta(minutes=m) for m in range(1, 5)])
    seen: list[tuple[str, int, int]] = []

    result = delete_expired(adapter, now=NOW, batch_size=2, pause=0, progress=lambda *step: seen.append(step))

    assert (result.sessions, result.verification_tokens, result.batches) == (5, 4, 6)
    assert seen == [
        ("sessions", 0, 5),
        ("sessions", 2, 5),
        ("sessions", 4, 5),
        ("sessions", 5, 5),
        ("verification_tokens", 0, 4),
        ("verification_tokens", 2, 4),
        ("verification_tokens", 4, 4),
        ("verification_tokens", 4, 4),
    ]
    assert count(database, "sessions") == 0
    assert count(database, "verification_tokens") == 0


def test_nothing_expired_is_one_batch_per_table(adapter: PeeweeAdapter) -> None:
    """With nothing to delete, each table costs one DELETE and nothing goes."""
    _sessions(adapter, _user(adapter), NOW + timedelta(days=1))
    result = delete_expired(adapter, now=NOW)
    assert (result.total, result.batches) == (0, 2)
    assert "0 expired sessions and 0 expired verification tokens deleted in 2 batches" in str(result)


def test_default_now_is_the_current_time(adapter: PeeweeAdapter) -> None:
    """Without now=, rows that expired a moment ago go and rows expiring later stay."""
    current = datetime.now(UTC)
    user_id = _user(adapter)
    gone = _sessions(adapter, user_id, current - timedelta(seconds=5))
    kept = _sessions(adapter, user_id, current + timedelta(minutes=5))
    assert delete_expired(adapter).sessions == 1
    assert adapter.get_session_and_user(gone[0]) is None
    assert adapter.get_session_and_user(kept[0]) is not None


def test_a_database_or_a_url_works_too(adapter: PeeweeAdapter, database: Database) -> None:
    """The target may be the Peewee database itself (the default models name the tables)."""
    _sessions(adapter, _user(adapter), NOW - timedelta(days=1))
    assert delete_expired(database, now=NOW).sessions == 1


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"now": datetime(2030, 1, 1)}, "now"),
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": "10"}, "batch_size"),
        ({"pause": -1.0}, "pause"),
    ],
)
def test_bad_options_are_refused_before_anything_goes(
    adapter: PeeweeAdapter, database: Database, options: dict[str, object], field: str
) -> None:
    """A naive now, a batch size below 1 or not an int, a negative pause: InvalidInputError naming it."""
    _sessions(adapter, _user(adapter), NOW - timedelta(days=1))
    with pytest.raises(InvalidInputError, match=field):
        delete_expired(adapter, **options)  # type: ignore[arg-type]
    assert count(database, "sessions") == 1


def test_sqlite_other_text_forms_go_only_when_truly_expired(tmp_path: Path) -> None:
    """SQLite text in other forms: deleted when julianday() reads it as expired, never when it is
    later than now in UTC although its text sorts before now's, never when it is unreadable."""
    adapter = PeeweeAdapter(f"sqlite:///{tmp_path / 'forms.db'}")
    adapter.create_tables()
    user_id = _user(adapter)
    forms = {
        "2029-12-31T23:00:00Z": True,  # ISO with Z, an hour ago
        "2030-01-01 11:59:59.999": True,  # peewee's form, no offset: UTC
        "2030-01-01 10:00:00.000 -05:00": False,  # 15:00 UTC: in the future
        "2030-01-01 12:00:00": False,  # exactly now, shorter text
        "1999-13-45 99:99:99": False,  # unreadable: never expired
    }
    database = adapter._db()
    for number, text in enumerate(forms):
        database.execute_sql(
            'INSERT INTO "sessions" ("id", "expires", "session_token", "user_id") VALUES (?, ?, ?, ?)',
            (str(uuid.uuid4()), text, f"form-{number}", user_id),
        )

    assert delete_expired(adapter, now=NOW).sessions == 2

    left = {row[0] for row in database.execute_sql('SELECT "expires" FROM "sessions"').fetchall()}
    assert left == {text for text, expired in forms.items() if not expired}


def test_a_session_extended_meanwhile_is_kept(adapter: PeeweeAdapter) -> None:
    """The DELETE re-checks expiry itself: a session updated to a later expiry is not deleted."""
    user_id = _user(adapter)
    (token,) = _sessions(adapter, user_id, NOW - timedelta(days=1))
    adapter.update_session({"session_token": token, "expires": NOW + timedelta(days=30)})
    assert delete_expired(adapter, now=NOW).sessions == 0
    assert adapter.get_session_and_user(token) is not None


def test_progress_bar_draws_one_line_per_table() -> None:
    """The bar overwrites its line with \\r, starts a new line per table, and ends the last one."""
    import io

    out = io.StringIO()
    bar = ProgressBar(out, width=10)
    bar("sessions", 0, 4)
    bar("sessions", 4, 4)
    bar("verification_tokens", 0, 0)
    bar.close()
    text = out.getvalue()
    assert text.count("\n") == 2
    assert "[##########]" in text and "4/4" in text
    assert text.endswith("\n")


def test_cli_cleanup_prints_a_summary(
    adapter: PeeweeAdapter,
    database: Database,
    capsys: pytest.CaptureFixture[str],
    backend: str,
    tmp_path: Path,
) -> None:
    """``peewee-authjs cleanup URL`` deletes expired rows and prints the summary line (no bar off a TTY)."""
    from tests.backends import backend_url

    _sessions(adapter, _user(adapter), datetime.now(UTC) - timedelta(days=2))
    assert main(["cleanup", backend_url(backend, tmp_path)]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("1 expired sessions and 0 expired verification tokens deleted in 2 batches")
    assert err == ""
    assert count(database, "sessions") == 0


def test_cli_cleanup_quiet_prints_nothing(
    adapter: PeeweeAdapter,
    database: Database,
    capsys: pytest.CaptureFixture[str],
    backend: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """--quiet prints nothing at all; the URL may come from $DATABASE_URL."""
    from tests.backends import backend_url

    _sessions(adapter, _user(adapter), datetime.now(UTC) - timedelta(days=2))
    monkeypatch.setenv("DATABASE_URL", backend_url(backend, tmp_path))
    assert main(["cleanup", "--quiet", "--batch-size", "1"]) == 0
    assert capsys.readouterr() == ("", "")
    assert count(database, "sessions") == 0


def test_cli_cleanup_without_a_url_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """No URL and no $DATABASE_URL: exit status 2 with a message naming the variable."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert main(["cleanup"]) == 2
    assert "DATABASE_URL" in capsys.readouterr().err


def test_cli_cleanup_on_a_database_without_tables_fails_cleanly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A database error is exit status 1 and one line on stderr, no traceback."""
    assert main(["cleanup", f"sqlite:///{tmp_path / 'empty.db'}"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("peewee-authjs cleanup:") and "Traceback" not in err


def test_result_total_and_text() -> None:
    """CleanupResult sums both tables and says what it did in one line."""
    result = CleanupResult(sessions=1200, verification_tokens=3, batches=4, seconds=0.5)
    assert result.total == 1203
    assert str(result) == (
        "1,200 expired sessions and 3 expired verification tokens deleted in 4 batches, 0.5 s"
    )
