"""Records an SQLite store could not write before it closed are lost with it: ``pending`` no longer
says they wait to be written (it kept counting them, and the closed store held them in memory),
and ``dropped`` counts them."""

from __future__ import annotations

import sqlite3

import pytest

from toolrouter.store import AttemptRecord, SQLiteStore, StoreUnavailableError, TraceClose


def test_records_lost_at_close_are_dropped_not_pending(tmp_path) -> None:
    store = SQLiteStore(tmp_path / "r.db", timeout_s=0.01)
    other = sqlite3.connect(tmp_path / "r.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    attempt = AttemptRecord("t", "q", "s", None, "a", True, 1.0, 0.0, 0.0, 1.0)
    assert store.append([attempt, TraceClose("tr", finished=True)]) == []
    assert (store.pending, store.dropped) == (2, 0)
    with pytest.raises(StoreUnavailableError, match=r"\(2 attempts, trace closes or tool removals wait in memory\); .*they are lost"):
        store.close()
    assert (store.pending, store.dropped) == (0, 2)
    other.execute("ROLLBACK")
    other.close()


def test_a_close_that_writes_them_drops_nothing(tmp_path) -> None:
    store = SQLiteStore(tmp_path / "r.db", timeout_s=0.01)
    other = sqlite3.connect(tmp_path / "r.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    assert store.append([AttemptRecord("t", "q", "s", None, "a", True, 1.0, 0.0, 0.0, 1.0)]) == []
    other.execute("ROLLBACK")
    other.close()
    store.close()
    assert (store.pending, store.dropped) == (0, 0)
    with SQLiteStore(tmp_path / "r.db") as again:
        assert again.count() == 1
