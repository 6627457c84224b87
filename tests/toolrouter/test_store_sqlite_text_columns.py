"""A name or a text of an SQLite store's log edited by hand into what no append keeps (a blob,
which SQLite keeps in a text column) is named as a damaged row when read: it was read back as it
was (``b'a'`` for the tool ``'a'``), a router replaying the log passed over it as the attempt of a
tool it does not have, and ``toolrouter stats`` failed comparing bytes with text."""

from __future__ import annotations

import sqlite3

import pytest

from toolrouter.errors import CorruptStateError
from toolrouter.store import AttemptRecord, SQLiteStore, ToolRemoval, TraceClose
from toolrouter.store_stats import store_stats


def attempt(i: int) -> AttemptRecord:
    return AttemptRecord(task_id=f"t{i}", task_type="t", step="s", capability="c", tool_id="a", success=True, quality=1.0,
                         cost=0.0, latency_s=0.0, utility=1.0, trace_id="tr", depends_on=("x",), request="hi")


@pytest.mark.parametrize(
    ("table", "column", "value", "shown"),
    [
        ("attempts", "tool_id", "CAST(tool_id AS BLOB)", "b'a'"),
        ("attempts", "task_type", "CAST(task_type AS BLOB)", "b't'"),
        ("attempts", "writer", "x'77'", "b'w'"),
        ("attempts", "capability", "x'63'", "b'c'"),
        ("attempts", "request", "CAST(request AS BLOB)", "b'hi'"),
        ("attempts", "depends_on", "CAST(depends_on AS BLOB)", "b'\\[\"x\"\\]'"),
        ("attempts", "conversation_id", "x'63'", "b'c'"),
        ("trace_closes", "trace_id", "x'7472'", "b'tr'"),
        ("tool_removals", "tool_id", "x'61'", "b'a'"),
    ],
)
def test_a_text_column_that_holds_no_text_is_named(tmp_path, table, column, value, shown) -> None:
    path = tmp_path / "r.db"
    with SQLiteStore(path) as store:
        store.append([attempt(1), TraceClose(trace_id="tr", finished=True), ToolRemoval(tool_id="a"), attempt(2)])
    conn = sqlite3.connect(path)
    with conn:
        (row_id,) = conn.execute(f"SELECT max(id) FROM {table}").fetchone()
        conn.execute(f"UPDATE {table} SET {column} = {value} WHERE id = {row_id}")
    conn.close()
    with SQLiteStore(path) as store:
        problem = rf"^store {store.url!r}: {table} row {row_id}: {column}: expected .*, got {shown} .*hand-edited"
        reads = [store.log] + ([store.attempts] if table == "attempts" else [])
        if column in ("tool_id", "task_type") and table == "attempts":
            reads += [store.summary, lambda: store_stats(store)]
        for read in reads:
            with pytest.raises(CorruptStateError, match=problem):
                read()
        assert [r.task_id for r in store.attempts(limit=1)] == ["t1"]  # the rows before it still read
