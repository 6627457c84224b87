"""A ``postgresql://`` store without the ``postgres`` extra installed is one line naming the extra
in every store command, as ``toolrouter mcp`` says a missing extra, not a traceback."""

from __future__ import annotations

import sys

import pytest
from typer.testing import CliRunner

from toolrouter.cli import app


@pytest.mark.parametrize("args", [["stats"], ["prune"], ["snapshots"], ["demo", "--calls", "3"]])
def test_a_postgresql_store_without_psycopg_is_one_line_naming_the_extra(monkeypatch: pytest.MonkeyPatch, args: list[str]) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # not installed: importing it fails
    result = CliRunner().invoke(app, [*args, "--store", "postgresql://router:s3cret@db.internal/routing"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.exception
    said = " ".join(result.output.split())
    assert said.startswith(f"toolrouter {args[0]}: the PostgreSQL store needs psycopg 3") and 'pip install "toolrouter[postgres]"' in said
