"""A number edited by hand into a stored attempt that is no finite number (``1e999`` or the text
``'nan'`` in SQLite, ``'Infinity'`` in PostgreSQL) is named as a damaged row when read, as an
append refuses it: it was read back as inf or NaN, and a router replaying the log learned it."""

from __future__ import annotations

import sqlite3

import pytest

from toolrouter import ToolMetaLearner
from toolrouter.errors import CorruptStateError
from toolrouter.store import AttemptRecord, SQLiteStore, open_store


def attempt(i: int) -> AttemptRecord:
    return AttemptRecord(task_id=f"t{i}", task_type="t", step="s", capability=None, tool_id="a", success=True,
                         quality=1.0, cost=0.0, latency_s=0.0, utility=1.0)


@pytest.mark.parametrize(
    ("column", "value", "shown"),
    [("quality", "1e999", "inf"), ("cost", "'nan'", "'nan'"), ("latency_s", "-1e999", "-inf"), ("utility", "'Infinity'", "'Infinity'")],
)
def test_an_sqlite_row_that_is_no_finite_number_is_named(tmp_path, column, value, shown) -> None:
    path = tmp_path / "r.db"
    with SQLiteStore(path) as store:
        store.append([attempt(1), attempt(2)])
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(f"UPDATE attempts SET {column} = {value} WHERE id = 2")
    conn.close()
    with SQLiteStore(path) as store:
        problem = rf"^store {store.url!r}: attempts row 2: {column}: expected a finite number, got {shown} .*hand-edited"
        for read in (store.log, store.attempts):
            with pytest.raises(CorruptStateError, match=problem):
                read()
        assert [r.id for r in store.attempts(limit=1)] == [1]  # the rows before it still read
    router = ToolMetaLearner([], store=f"sqlite:///{path}")
    try:
        with pytest.raises(CorruptStateError, match=rf"attempts row 2: {column}: expected a finite number"):
            router.sync()
    finally:
        router.close()


def test_a_postgres_row_that_is_no_finite_number_is_named(postgres_server, pg_database, pg_url) -> None:
    with open_store(pg_url) as store:
        ids = store.append([attempt(1), attempt(2)])
        postgres_server.sql(f"UPDATE toolrouter.attempts SET utility = 'Infinity' WHERE id = {ids[1]}", pg_database)
        for read in (store.log, store.attempts):
            with pytest.raises(CorruptStateError, match=rf"attempts row {ids[1]}: utility: expected a finite number, got inf"):
                read()
