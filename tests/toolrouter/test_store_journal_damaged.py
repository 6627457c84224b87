"""An outage journal left by a dead router process that cannot be read is said, not passed over."""

from __future__ import annotations

from pathlib import Path

import pytest
from structlog.testing import capture_logs

from toolrouter.store import open_store


def test_a_damaged_orphan_journal_is_logged_and_left_in_place(postgres_server, pg_database: str, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    # it was skipped without a word at every open and reconnect: its attempts never reached the
    # server, and nothing said so
    from psycopg.conninfo import conninfo_to_dict

    from toolrouter.store.postgres import _journal_dir

    monkeypatch.setenv("TOOLROUTER_JOURNAL_DIR", str(tmp_path))
    url = postgres_server.url(pg_database)
    folder = _journal_dir(None, conninfo_to_dict(url))
    folder.mkdir(parents=True)
    (folder / "dead-process.journal").write_bytes(b"not an sqlite file" * 100)
    (folder / "dead-process.journal.lock").touch()  # its process made it, then died
    with capture_logs() as events, open_store(url) as store:
        assert store.count() == 0
    said = [e for e in events if e["event"] == "journal_unreadable"]
    assert len(said) == 1 and said[0]["journal"] == str(folder / "dead-process.journal") and said[0]["log_level"] == "error"
    assert "not a database" in said[0]["error"]
    assert (folder / "dead-process.journal").read_bytes() == b"not an sqlite file" * 100
