"""A store's ``pending`` and ``dropped`` count the log's records that wait or were dropped, trace
closes and tool removals as well as attempts, and say so."""

from __future__ import annotations

import inspect
import sqlite3

from toolrouter.store import AttemptRecord, PostgresStore, SQLiteStore, Store, ToolRemoval, TraceClose


def attempt() -> AttemptRecord:
    return AttemptRecord("t", "q", "s", "s", "a", True, 1.0, 0.0, 0.0, 1.0, trace_id="tr")


def test_pending_and_dropped_count_trace_closes_and_say_so(tmp_path) -> None:
    store = SQLiteStore(tmp_path / "r.db", timeout_s=0.01, max_pending=3)
    other = sqlite3.connect(tmp_path / "r.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    assert store.append([attempt(), TraceClose("tr", finished=True)]) == []
    assert store.append([attempt(), TraceClose("tr2", finished=False)]) == []
    assert (store.pending, store.dropped) == (2, 2)  # the second append, whole: no attempt without its close
    # and every later one until what waits is written, fitting or not: no gap in what is written
    assert store.append([ToolRemoval("a")]) == [] and (store.pending, store.dropped) == (2, 3)
    assert store.append([ToolRemoval("b")]) == [] and (store.pending, store.dropped) == (2, 4)
    other.execute("ROLLBACK")
    store.close()
    # their documentation said "attempts" only, then "attempts and trace closes"
    def said(text: str | None) -> str:
        return " ".join((text or "").split())

    for cls in (SQLiteStore, PostgresStore):
        assert "records of the log (attempts, trace closes and tool removals) wait" in said(inspect.getdoc(cls.pending)), cls
        assert "dropped`` count" in said(inspect.getdoc(cls)) and "trace closes and tool removals" in said(inspect.getdoc(cls)), cls
    assert "#: Records of the log (attempts, trace closes and tool removals) dropped" in inspect.getsource(SQLiteStore.__init__)
    assert "Delete the attempts, trace closes and tool removals with an id" in said(inspect.getdoc(Store.prune))


def test_an_append_that_does_not_fit_is_dropped_whole(tmp_path) -> None:
    # a trace's attempts and its close are one append: all or none, as written (the first part was kept)
    store = SQLiteStore(tmp_path / "r.db", timeout_s=0.01, max_pending=2)
    other = sqlite3.connect(tmp_path / "r.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    assert store.append([attempt()]) == []
    assert store.append([attempt(), TraceClose("tr", finished=True)]) == []
    other.execute("ROLLBACK")
    other.close()
    store.flush()
    assert [type(r).__name__ for r in store.log()] == ["AttemptRecord"] and store.dropped == 2
    store.close()
