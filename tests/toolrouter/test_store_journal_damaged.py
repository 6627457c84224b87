"""An outage journal left by a dead router process that cannot be read is said, not passed over."""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from toolrouter.store import AttemptRecord, open_store
from toolrouter.store.journal import Journal


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


def test_an_orphan_damaged_past_its_meta_is_logged_and_the_others_adopted(tmp_path: Path) -> None:
    # its meta read, then opening it failed (its attempts damaged): the error ended the search, so
    # the store failed to open (leaving its connections open), or stayed offline after an outage
    made = AttemptRecord("t", "x", "s", "s", "web", True, 1.0, 0.0, 0.0, 1.0, timestamp=datetime.now(timezone.utc))
    for origin in ("a-damaged", "b-whole"):
        dead = Journal.for_origin(tmp_path, origin, 1000)
        dead.add(list(range(1, 201)), [made] * 200)
        dead._conn.close()  # its process died; the WAL is written into the file
        os.close(dead._lock_fd)
    damaged = tmp_path / "a-damaged.journal"
    data = bytearray(damaged.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    data[3 * page :] = b"\xff" * (len(data) - 3 * page)  # the pages after the schema and meta (its index too)
    damaged.write_bytes(bytes(data))
    with capture_logs() as events:
        adopted = list(Journal.orphans(tmp_path, exclude="c-new"))
    assert [(j.origin, len(j)) for j in adopted] == [("b-whole", 200)]
    adopted[0].close()
    said = [e for e in events if e["event"] == "journal_unreadable"]
    assert [e["journal"] for e in said] == [str(damaged)] and damaged.exists()


def test_an_orphan_whose_lock_cannot_be_taken_is_logged_and_the_others_adopted(tmp_path: Path) -> None:
    # an OSError of its lock file (a folder in its place here; ENOLCK from a network file system)
    # ended the search: the store failed to open with that error, or stayed offline after an outage
    made = AttemptRecord("t", "x", "s", "s", "web", True, 1.0, 0.0, 0.0, 1.0, timestamp=datetime.now(timezone.utc))
    for origin in ("a-locked", "b-whole"):
        dead = Journal.for_origin(tmp_path, origin, 1000)
        dead.add([1], [made])
        dead.close()
    lock = tmp_path / "a-locked.journal.lock"
    lock.unlink()
    lock.mkdir()
    with capture_logs() as events:
        adopted = list(Journal.orphans(tmp_path, exclude="c-new"))
    assert [(j.origin, len(j)) for j in adopted] == [("b-whole", 1)]
    adopted[0].close()
    said = [e for e in events if e["event"] == "journal_unreadable"]
    assert [e["journal"] for e in said] == [str(tmp_path / "a-locked.journal")] and "Is a directory" in said[0]["error"]
