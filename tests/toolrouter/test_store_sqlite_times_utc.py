"""A time edited by hand in an SQLite store without an offset, or with another one, is read back in
UTC, as every store gives it back (memory and PostgreSQL always do); one out of range in UTC is
named as a damaged row."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone

import pytest

from toolrouter.errors import CorruptStateError
from toolrouter.store import AttemptRecord, SQLiteStore, TraceClose

UTC_NOON = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def path(tmp_path):
    path = tmp_path / "r.db"
    with SQLiteStore(path) as store:
        store.append([
            AttemptRecord(task_id="t", task_type="t", step="s", capability=None, tool_id="a", success=True,
                          quality=1.0, cost=0.0, latency_s=0.0, utility=1.0),
            TraceClose(trace_id="tr", finished=True),
        ])
        store.put_snapshot("learner", b"x", 0)
    return path


def edit(path, *statements: str) -> None:
    conn = sqlite3.connect(path)
    with conn:
        for statement in statements:
            conn.execute(statement)
    conn.close()


@pytest.mark.parametrize("text", ["2024-05-01T12:00:00", "2024-05-01 14:00:00+02:00", "2024-05-01T07:00:00-05:00"])
def test_a_hand_edited_time_is_read_back_in_utc(path, text) -> None:
    edit(
        path,
        f"UPDATE attempts SET timestamp = '{text}'",
        f"UPDATE trace_closes SET timestamp = '{text}'",
        f"UPDATE snapshots SET created = '{text}'",
    )
    with SQLiteStore(path) as store:
        stamps = [e.timestamp for e in store.log()] + [store.get_snapshot("learner").created]
        stamps += [info.created for info in store.snapshot_infos()]
    for stamp in stamps:
        assert stamp == UTC_NOON
        assert stamp.tzinfo is timezone.utc


def test_a_time_out_of_range_in_utc_is_named_as_a_damaged_row(path) -> None:
    edit(path, "UPDATE attempts SET timestamp = '0001-01-01T00:00:00+01:00'")
    with SQLiteStore(path) as store:
        with pytest.raises(CorruptStateError, match=r"attempts row 1: timestamp: 0001-01-01T00:00:00\+01:00 is out of"):
            store.log()
