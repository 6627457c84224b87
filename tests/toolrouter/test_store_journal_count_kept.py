"""Forgetting the written records of an outage journal is one statement, not a count of the whole
journal after it: the pass that writes a journal the server refuses a record at a time forgets each
record as it goes, and counted up to ``journal_max_attempts`` records (100,000 by default) at each
one. The journal's count stays what it holds."""

from __future__ import annotations

from test_store import record

from toolrouter.store.journal import Journal


def test_forgetting_records_deletes_them_without_counting_the_journal(tmp_path) -> None:
    journal = Journal.for_origin(tmp_path, "origin", 100)
    try:
        journal.add([1, 2, 3, 4], [record(t) for t in "abcd"])
        journal.add([4, 5], [record("d"), record("e")])  # one it holds already: counted once
        statements: list[str] = []
        journal._conn.set_trace_callback(statements.append)
        journal.remove_upto(2)
        journal._conn.set_trace_callback(None)
        assert [s.split()[0] for s in statements] == ["DELETE"], statements
        journal.set_aside(3, ValueError("refused"))
        held = journal._conn.execute("SELECT COUNT(*) FROM attempts").fetchone()[0]
        assert len(journal) == held == 2
        journal.remove_upto(5)
        assert len(journal) == 0
    finally:
        journal.close()
    assert not (tmp_path / "origin.journal").exists()  # counted empty, so removed
