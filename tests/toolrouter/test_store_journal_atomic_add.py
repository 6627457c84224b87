"""An add to an outage journal is all or none: on a connection in autocommit mode each insert was
its own transaction, so an add that failed part-way (the disk full) kept some of its attempts,
while the store counted every one of them dropped and the journal's count said none were kept
(a journal counted empty is deleted when the server is back, with what it held)."""

from __future__ import annotations

import sqlite3

import pytest

from toolrouter.store import AttemptRecord
from toolrouter.store.journal import Journal


def record(i: int) -> AttemptRecord:
    return AttemptRecord(task_id=f"t{i}", task_type="t", step="s", capability=None, tool_id="a", success=True,
                         quality=1.0, cost=0.0, latency_s=0.0, utility=1.0, request="x" * 1500)


def test_an_add_that_fails_part_way_keeps_none_of_its_attempts(tmp_path) -> None:
    journal = Journal.for_origin(tmp_path, "origin", 1000)
    try:
        journal.add([1], [record(1)])
        pages = journal._conn.execute("PRAGMA page_count").fetchone()[0]
        journal._conn.execute(f"PRAGMA max_page_count = {pages + 3}")  # the disk fills a few attempts in
        with pytest.raises(sqlite3.OperationalError, match="full"):
            journal.add(range(2, 50), [record(i) for i in range(2, 50)])
        assert len(journal) == 1 and [seq for seq, _ in journal.head(100)] == [1]
    finally:
        journal.close()
