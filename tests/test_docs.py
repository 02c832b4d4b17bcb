"""The Python examples of the README, the getting-started guide and the migrations guide run as written.

A block preceded by an HTML comment starting with ``<!-- not run`` is skipped (it needs a server).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [
    "README.md",
    "docs/getting-started.md",
    "docs/migrations.md",
    "docs/sign-in-rules.md",
    "docs/flask.md",
    "docs/bottle.md",
    "docs/nextjs-session-in-flask.md",
]
BLOCK = re.compile(r"(<!-- not run[^\n]*-->\n)?```python\n(.*?)```", re.DOTALL)


def examples() -> list[tuple[str, int, str]]:
    found = []
    for document in DOCUMENTS:
        text = (ROOT / document).read_text(encoding="utf-8")
        for number, match in enumerate(BLOCK.finditer(text)):
            if not match.group(1):
                found.append((document, number, match.group(2)))
    return found


@pytest.mark.parametrize(("document", "number", "code"), examples(), ids=lambda v: str(v)[:30])
def test_example_runs(
    document: str, number: int, code: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The example runs in a fresh folder (its SQLite files land there) without an error."""
    monkeypatch.chdir(tmp_path)
    exec(compile(code, f"{document}#{number}", "exec"), {"__name__": "docs_example"})
