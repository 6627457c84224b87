"""``toolrouter stats`` of an SQLite store with a number edited by hand into what no append keeps
(text, inf, a success other than 0 or 1) names the row and the column, as every read of the log
does, instead of averaging it in SQL as 0 or inf."""

from __future__ import annotations

import sqlite3

import pytest

from toolrouter.errors import CorruptStateError
from toolrouter.store import AttemptRecord, SQLiteStore
from toolrouter.store_stats import store_stats


def attempt(i: int, tool_id: str = "a") -> AttemptRecord:
    return AttemptRecord(
        task_id=f"t{i}", task_type="t", step="s", capability=None, tool_id=tool_id, success=i % 2 == 0,
        quality=1, cost=0.5 * i, latency_s=0.25, utility=1.0 - 0.1 * i,
    )


@pytest.fixture
def path(tmp_path):
    path = tmp_path / "r.db"
    with SQLiteStore(path) as store:
        store.append([attempt(1), attempt(2), attempt(3, "b")])
    return path


@pytest.mark.parametrize(
    ("value", "column", "shown"),
    [
        ("'high'", "quality", "'high'"),
        ("'nan'", "utility", "'nan'"),
        ("1e999", "cost", "inf"),
        ("-1e999", "latency_s", "-inf"),
        ("x'00'", "utility", "b'\\\\x00'"),
        ("'false'", "success", "'false'"),
        ("2", "success", "2"),
    ],
)
def test_summary_names_the_damaged_row(path, value, column, shown) -> None:
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(f"UPDATE attempts SET {column} = {value} WHERE id = 2")
    conn.close()
    with SQLiteStore(path) as store:
        expected = rf"attempts row 2: {column}: expected .*, got {shown}"
        with pytest.raises(CorruptStateError, match=expected):
            store.summary()
        with pytest.raises(CorruptStateError, match=expected):
            store_stats(store)


def test_summary_of_sound_rows_is_what_the_rows_say(path) -> None:
    with SQLiteStore(path) as store:
        summary = store.summary()
        rows = store.attempts()
    assert [(s.tool_id, s.calls, s.successes) for s in summary] == [("a", 2, 1), ("b", 1, 0)]
    a = summary[0]
    assert a.mean_quality == 1.0 and a.mean_latency_s == 0.25
    assert a.mean_cost == pytest.approx(sum(r.cost for r in rows[:2]) / 2)
    assert a.mean_utility == pytest.approx(sum(r.utility for r in rows[:2]) / 2)
