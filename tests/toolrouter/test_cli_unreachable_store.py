"""A PostgreSQL store whose server cannot be reached, or an SQLite file locked past the timeout, is a
store that cannot be used now: the store commands end with one line naming it and exit status 1, as
``_reported`` says; a malformed URL stays a usage error (exit status 2)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from toolrouter.cli import app
from toolrouter.errors import StoreOpenError
from toolrouter.store import StoreUnavailableError, open_store

pytest.importorskip("psycopg")


def _refused_url(tmp_path: Path, query: str = "") -> str:
    with socket.socket() as s:  # a port nothing listens on: the connection is refused at once
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"postgresql://router:s3cret@127.0.0.1:{port}/routing?journal_dir={tmp_path}{query}"


def test_opening_is_refused_as_both_an_open_error_and_an_outage(tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailableError, match="Connection refused") as info:
        open_store(_refused_url(tmp_path))
    assert isinstance(info.value, StoreOpenError)  # what callers caught before still catches it


@pytest.mark.parametrize("args", [["stats"], ["demo", "--calls", "3"]])
def test_an_unreachable_server_exits_1_naming_the_store(tmp_path: Path, args: list[str]) -> None:
    result = CliRunner().invoke(app, [*args, "--store", _refused_url(tmp_path)])
    said = " ".join(result.output.split())
    assert result.exit_code == 1, result.output
    assert said.startswith(f"toolrouter {args[0]}: store 'postgresql://router:***@127.0.0.1:") and "Connection refused" in said
    assert "s3cret" not in said and "Invalid value" not in said


def test_a_malformed_url_is_still_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["stats", "--store", _refused_url(tmp_path, "&timeout_s=-1")])
    assert result.exit_code == 2 and "Invalid value for --store" in result.output and "timeout_s='-1'" in result.output


def test_an_sqlite_file_locked_past_the_timeout_is_unavailable_not_a_bad_url(tmp_path: Path) -> None:
    import sqlite3

    from toolrouter.store import SQLiteStore

    path = tmp_path / "locked.db"
    SQLiteStore(str(path)).close()
    holder = sqlite3.connect(path, isolation_level=None)  # another process's exclusive hold
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("INSERT INTO meta (key, value) VALUES ('held', '1')")
    try:
        with pytest.raises(StoreUnavailableError, match="database is locked") as info:
            SQLiteStore(str(path), timeout_s=0.05)
        assert isinstance(info.value, StoreOpenError)  # exit status 1 in the store commands, as above
    finally:
        holder.close()
