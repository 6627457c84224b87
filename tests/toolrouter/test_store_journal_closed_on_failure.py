"""A journal that cannot be opened or read leaves no SQLite connection open on it: the failed open
closed only its lock, and the search for orphans read a damaged one's meta and left its connection
to the garbage collector (held meanwhile by the failed open's error, or by the search, suspended
on the next orphan while the store writes it)."""

from __future__ import annotations

import os
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

import pytest

from toolrouter.store import AttemptRecord
from toolrouter.store.journal import Journal


def open_files() -> set[str]:
    """The files this process holds open."""
    found = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            found.add(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:  # the listing's own descriptor, closed since
            pass
    return found


def damaged(folder: Path, name: str) -> Path:
    """A journal file whose process died, that is not an SQLite database."""
    path = folder / name
    path.write_bytes(b"not an sqlite file" * 100)
    (folder / f"{name}.lock").touch()
    return path


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="lists open files through /proc")
def test_a_journal_that_cannot_be_opened_leaves_no_connection_open(tmp_path) -> None:
    path = damaged(tmp_path, "dead.journal")
    with pytest.raises(sqlite3.DatabaseError, match="not a database") as failed:  # kept, as a caller reporting it does
        Journal(path, "dead", 1000)
    assert str(path) not in open_files() and failed.value


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="lists open files through /proc")
def test_the_search_for_orphans_leaves_no_connection_open_on_a_damaged_one(tmp_path) -> None:
    path = damaged(tmp_path, "a-dead.journal")
    whole = Journal.for_origin(tmp_path, "b-whole", 1000)
    whole.add([1], [AttemptRecord("t", "x", "s", "s", "web", True, 1.0, 0.0, 0.0, 1.0, timestamp=datetime.now(timezone.utc))])
    whole._conn.close()  # its process died
    os.close(whole._lock_fd)
    search = Journal.orphans(tmp_path, exclude="c-new")
    adopted = next(search)  # the search waits here while the store writes it
    try:
        assert adopted.origin == "b-whole" and str(path) not in open_files()
    finally:
        adopted.close()
        search.close()
