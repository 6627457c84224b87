"""Stores: the attempt log and snapshots, for memory:// and sqlite:///, chosen by URL."""

from __future__ import annotations

import re
import sqlite3
from datetime import datetime, timezone

import numpy as np
import pytest

from toolrouter.store import (
    AttemptRecord,
    MemoryStore,
    SQLiteStore,
    Store,
    open_store,
    register_store,
)
from toolrouter.store.base import Store as BaseStore


def record(tool_id: str = "a", success: bool = True, utility: float = 1.0, **kw) -> AttemptRecord:
    fields = dict(
        task_id="t",
        task_type="default",
        step="search",
        capability="search",
        tool_id=tool_id,
        success=success,
        quality=1.0 if success else 0.0,
        cost=0.5,
        latency_s=0.25,
        utility=utility,
        writer="w1",
    )
    fields.update(kw)
    return AttemptRecord(**fields)


@pytest.fixture(params=["memory", "sqlite"])
def store(request, tmp_path) -> Store:
    url = "memory://" if request.param == "memory" else f"sqlite:///{tmp_path / 'r.db'}"
    s = open_store(url)
    yield s
    s.close()


def test_open_store_by_url(tmp_path) -> None:
    assert isinstance(open_store("memory://"), MemoryStore)
    s = open_store(f"sqlite:///{tmp_path / 'x.db'}")
    assert isinstance(s, SQLiteStore) and s.path == str(tmp_path / "x.db")
    assert open_store(s) is s  # a Store passes through
    s.close()


@pytest.mark.parametrize(
    "url, match",
    [
        ("router.db", "expected a URL"),
        ("mysql://host/db", "unknown scheme 'mysql'"),
        ("sqlite:///", "expected sqlite:///<path>"),
        ("memory://x", "expected exactly 'memory://'"),
        ("sqlite:////no/such/dir/r.db", "does not exist"),
    ],
)
def test_bad_store_urls_name_the_url(url: str, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        open_store(url)


def test_register_store_adds_a_scheme_without_touching_the_router() -> None:
    class Custom(MemoryStore):
        pass

    register_store("custom", lambda url: Custom(url))
    try:
        s = open_store("custom://anything")
        assert isinstance(s, Custom) and s.url == "custom://anything"
    finally:
        from toolrouter.store import _FACTORIES

        _FACTORIES.pop("custom")
    with pytest.raises(ValueError, match="scheme"):
        register_store("bad://", lambda url: MemoryStore())


def test_append_and_read_back_in_id_order(store: Store) -> None:
    ctx = np.array([0.5, -1.0, 2.0])
    ids = store.append([record("a"), record("b", success=False, utility=-0.5, context=ctx, error="boom")])
    assert 0 < ids[0] < ids[1]  # increasing; consecutive only in some stores
    assert store.append([]) == []
    assert store.count() == 2
    rows = store.attempts()
    assert [r.id for r in rows] == ids
    assert rows[1].tool_id == "b" and rows[1].success is False and rows[1].error == "boom"
    np.testing.assert_array_equal(rows[1].context, ctx)
    assert rows[0].context is None
    assert [r.id for r in store.attempts(after_id=ids[0])] == [ids[1]]
    assert [r.id for r in store.attempts(after_id=0, limit=1)] == [ids[0]]
    assert isinstance(rows[0].timestamp, datetime)


def test_iter_attempts_reads_in_batches(store: Store) -> None:
    ids = store.append([record(str(i)) for i in range(25)])
    assert [r.tool_id for r in store.iter_attempts(after_id=ids[2], batch=7)] == [str(i) for i in range(3, 25)]


def test_snapshot_is_never_replaced_by_an_older_one(store: Store) -> None:
    store.append([record(str(i)) for i in range(9)])  # a watermark counts attempts the store holds
    assert store.get_snapshot("learner") is None
    assert store.put_snapshot("learner", b"v5", watermark=5)
    assert not store.put_snapshot("learner", b"v3", watermark=3)
    assert store.get_snapshot("learner").data == b"v5"
    assert store.put_snapshot("learner", b"v9", watermark=9)
    snap = store.get_snapshot("learner")
    assert (snap.data, snap.watermark) == (b"v9", 9)
    store.put_snapshot("other", b"x", 0)
    assert store.snapshot_names() == ["learner", "other"]


@pytest.mark.parametrize(
    "name, data, watermark, error, match",
    [(5, b"x", 1, TypeError, r"^name: expected a str, got 5$"),
     ("n", "text", 1, TypeError, r"^data: expected bytes, got str$"),
     ("n", b"x", -5, ValueError, r"^watermark: expected an integer"),
     ("n", b"x", 1.7, ValueError, r"^watermark: expected an integer"),
     ("n", b"x", float("nan"), ValueError, r"^watermark: expected an integer"),
     ("n", b"x", 2**70, ValueError, r"^watermark: expected an integer")],
)
def test_a_snapshot_with_a_bad_name_data_or_watermark_is_refused_naming_it(store: Store, name, data, watermark, error, match) -> None:
    # each was kept (a name that broke snapshot_names, a watermark below 0 that prunable returned)
    # or failed in the database's words
    store.append([record(str(i)) for i in range(3)])
    store.put_snapshot("learner", b"v", 3)
    with pytest.raises(error, match=match):
        store.put_snapshot(name, data, watermark)
    assert store.snapshot_names() == ["learner"] and store.prunable() == 3
    assert store.put_snapshot("n", bytearray(b"y"), 2) and store.get_snapshot("n").data == b"y"


@pytest.mark.parametrize(
    "records, match",
    [("abc", r"^records: expected a sequence of AttemptRecord, got 'abc'$"), (5, r"^records: expected a sequence"),
     ([record(), {"tool_id": "a"}], r"^records\[1\]: expected an AttemptRecord, a TraceClose or a ToolRemoval, got \{'tool_id': 'a'\}$")],
)
def test_an_append_of_what_is_not_attempt_records_is_refused_naming_it(store: Store, records, match) -> None:
    with pytest.raises(TypeError, match=match):
        store.append(records)
    assert store.count() == 0
    assert len(store.append(record() for _ in range(2))) == 2  # any iterable of records


def test_summary_per_task_type_step_and_tool(store: Store) -> None:
    store.append([record("a", utility=1.0), record("a", success=False, utility=-1.0), record("b", utility=2.0)])
    rows = {r.tool_id: r for r in store.summary()}
    assert rows["a"].calls == 2 and rows["a"].successes == 1 and rows["a"].success_rate == 0.5
    assert rows["a"].mean_utility == pytest.approx(0.0)
    assert rows["b"].mean_cost == pytest.approx(0.5) and rows["b"].mean_latency_s == pytest.approx(0.25)
    # the SQL aggregation agrees with the generic one every store inherits
    assert BaseStore.summary(store) == store.summary()


def test_attempt_record_rejects_non_finite_numbers() -> None:
    for field in ("utility", "cost", "latency_s", "quality"):
        with pytest.raises(ValueError, match=field):
            record(**{field: float("nan")})


@pytest.mark.parametrize(
    "field, value, match",
    [("task_id", 5, r"^task_id: expected a string, got 5$"), ("tool_id", None, r"^tool_id: expected a string, got None$"),
     ("capability", ["c"], r"^capability: expected a string or None, got \['c'\]$"),
     ("success", "no", r"^success: expected a bool, got 'no'$"), ("cost", "0.5", r"^cost: expected a number, got '0.5'$")],
)
def test_attempt_record_refuses_fields_of_the_wrong_type_naming_them(field, value, match) -> None:
    # each store failed on them in its own words, or kept them as they were (success='no' as True)
    with pytest.raises(TypeError, match=match):
        record(**{field: value})
    assert record(success=np.bool_(True), cost=np.float32(0.5), quality=1).success


def test_sqlite_is_in_wal_mode_and_reopens(tmp_path) -> None:
    path = tmp_path / "r.db"
    with SQLiteStore(path) as s:
        s.append([record("a")])
        s.put_snapshot("learner", b"state", 1)
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
    with SQLiteStore(path) as s:
        assert s.count() == 1 and s.get_snapshot("learner").data == b"state"


def test_sqlite_append_is_all_or_nothing(tmp_path) -> None:
    with SQLiteStore(tmp_path / "r.db") as s:
        s.append([record("a")])
        bad = record("b")
        object.__setattr__(bad, "task_id", None)  # past the record's checks: NOT NULL violated on the second row
        with pytest.raises(sqlite3.IntegrityError):
            s.append([record("c"), bad])
        assert [r.tool_id for r in s.attempts()] == ["a"]
        s.append([record("d")])
        assert [r.tool_id for r in s.attempts()] == ["a", "d"]


def test_sqlite_rejects_a_future_schema(tmp_path) -> None:
    path = tmp_path / "r.db"
    SQLiteStore(path).close()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    with pytest.raises(ValueError, match="schema_version 99"):
        SQLiteStore(path)


def test_timestamps_survive_the_round_trip(store: Store) -> None:
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    store.append([record("a", timestamp=when)])
    assert store.attempts()[0].timestamp == when


def test_timestamps_read_back_in_utc_a_naive_one_taken_as_utc_as_an_execution_result_does(store: Store) -> None:
    # SQLite gave a naive timestamp back naive, PostgreSQL took it for the session's local time
    from datetime import timedelta

    naive, other = datetime(2026, 1, 2, 3, 4, 5), datetime(2026, 1, 2, 8, 4, 5, tzinfo=timezone(timedelta(hours=5)))
    store.append([record("a", timestamp=naive), record("b", timestamp=other)])
    assert [r.timestamp for r in store.attempts()] == [naive.replace(tzinfo=timezone.utc)] * 2
    assert all(r.timestamp.utcoffset() == timedelta(0) for r in store.attempts())
    with pytest.raises(TypeError, match=r"^timestamp: expected a datetime, got '2026-01-02'$"):
        record("a", timestamp="2026-01-02")


def test_prune_deletes_what_every_snapshot_holds_and_never_reuses_an_id(store: Store) -> None:
    ids = store.append([record(str(i)) for i in range(6)])
    assert store.prunable() == 0  # no snapshot: every attempt is still needed
    store.put_snapshot("learner", b"s", watermark=ids[3])
    store.put_snapshot("tool_selector", b"t", watermark=ids[1])
    assert store.prunable() == ids[1]  # the lowest watermark
    for bad in (-1, 2.5, True, "3", None):
        with pytest.raises(ValueError, match=re.escape(f"upto_id: expected an integer in [0, {2**63 - 1}], got {bad!r}")):
            store.prune(bad)  # type: ignore[arg-type]
    assert store.count() == 6
    assert store.prune(store.prunable()) == 2 and store.count() == 4
    assert [r.tool_id for r in store.attempts()] == ["2", "3", "4", "5"]
    assert [r.tool_id for r in store.attempts(after_id=ids[2])] == ["3", "4", "5"]
    assert store.prune(np.int64(ids[1])) == 0  # already gone; a numpy id is taken as the int it holds
    assert store.prune(ids[-1]) == 4 and store.count() == 0 and store.attempts() == []
    (new,) = store.append([record("later")])
    assert new > ids[-1] and [r.tool_id for r in store.attempts(after_id=ids[-1])] == ["later"]
