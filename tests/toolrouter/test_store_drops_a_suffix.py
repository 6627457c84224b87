"""A store that cannot write keeps each append whole or drops it whole, and once it drops one it
drops every later one until what waits is written: what reaches it is a prefix of the appends, in
order. Its loss is logged once a run of drops, not at each append."""

from __future__ import annotations

import sqlite3

from structlog.testing import capture_logs
from test_store import record
from test_store_postgres import block, unblock

from toolrouter.bench._postgres_server import LocalPostgres
from toolrouter.store import SQLiteStore, TraceClose, open_store


def test_sqlite_keeps_no_append_after_one_it_dropped(tmp_path) -> None:
    # a smaller append after one that did not fit was kept: the file got "a" and "c" without "b"
    store = SQLiteStore(tmp_path / "r.db", timeout_s=0.01, max_pending=2)
    other = sqlite3.connect(tmp_path / "r.db", isolation_level=None)
    with capture_logs() as events:
        other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        assert store.append([record("a")]) == []
        assert store.append([record("b"), TraceClose("t", finished=True)]) == []
        assert store.append([record("c")]) == []
        assert (store.pending, store.dropped) == (1, 3)
        other.execute("ROLLBACK")
        store.flush()
        assert store.append([record("d")]) != []  # written: the run of drops is over
        other.execute("BEGIN IMMEDIATE")
        for tool in "efgh":
            assert store.append([record(tool)]) == []
        other.execute("ROLLBACK")
    other.close()
    store.flush()
    assert [r.tool_id for r in store.attempts()] == ["a", "d", "e", "f"]
    full = [e["dropped"] for e in events if e["event"] == "store_pending_full"]
    assert full == [2, 4]  # once a run of drops, as a server store's journal_full
    store.close()


def test_the_outage_journal_keeps_an_append_whole_or_not_at_all(
    pg_url: str, pg_database: str, postgres_server: LocalPostgres
) -> None:
    # the journal kept the part of an append that fitted: a trace's attempts reached the server
    # without its close
    store = open_store(f"{pg_url}&timeout_s=0.5&retry_s=0.05&journal_max_attempts=3")
    block(postgres_server, pg_database)
    try:
        assert store.append([record("a")]) == []
        assert store.append([record("b"), record("c"), TraceClose("t", finished=True)]) == []
        assert store.append([record("d")]) == []  # fits, but after one dropped
        assert (store.pending, store.dropped) == (1, 4)
    finally:
        unblock(postgres_server, pg_database)
    store.flush(timeout_s=10)
    assert [type(r).__name__ for r in store.log()] == ["AttemptRecord"] and store.attempts()[0].tool_id == "a"
    assert store.append([record("e")]) != []  # back online: written
    store.close()
