"""A recheck's outcome is stored as one: a router reopened on the store, or another one syncing from
it, learns it as the live router did (its detectors, recheck counts and backed-off waits)."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest

from toolrouter import ExecutionResult, ToolMetaLearner, ToolProfile
from toolrouter.models import CANCELLED_BY_CALLER
from toolrouter.store import AttemptRecord, MemoryStore, SQLiteStore, Store
from toolrouter.store.journal import record_from_json, record_to_json
from toolrouter.store.sqlite import SCHEMA_VERSION

TOOLS = [ToolProfile(tool_id=t, capabilities=("search",), expected_latency_s=0.0) for t in ("a", "b", "c")]
DRIFT = {"kind": "page_hinkley", "recheck_after": 5}
#: "a" is best until it breaks at call 150 and stays broken: rechecks of it miss, and back off
RATES = {"a": (0.9, 0.1), "b": (0.6, 0.6), "c": (0.3, 0.3)}


def router(store: Store | str, seed: int) -> ToolMetaLearner:
    return ToolMetaLearner(TOOLS, seed=seed, store=store, drift_detection=DRIFT)


def call(r: ToolMetaLearner, i: int, rng: np.random.Generator) -> None:
    tool = r.rank_tool_ids("search", task_type="news")[0]
    ok = bool(rng.random() < RATES[tool][i >= 150])
    r.record_attempt(ExecutionResult(tool_id=tool, step="search", success=ok, quality=float(ok)), capability="search", task_type="news")


def drift_state(r: ToolMetaLearner) -> dict:
    """Per tool of the route: rechecks, misses, awaited, due, resets, and its detector's state."""
    route = r._routes[("news", "search")]
    return {
        t: (d.as_dict(), repr(route.detectors[t].state_dict()) if t in route.detectors else None)
        for t, d in sorted(route.drift.items())
    }


def statistics(r: ToolMetaLearner) -> dict:
    return {t: (s.calls, s.rechecks, s.resets, s.last_reset) for t, s in r.tool_statistics().items()}


@pytest.fixture(params=["memory", "sqlite"])
def store_of(request, tmp_path):
    """A function that opens the store (the same one each time for memory)."""
    if request.param == "memory":
        shared = MemoryStore()
        return lambda: shared
    return lambda: f"sqlite:///{tmp_path / 'router.db'}"


def test_reopened_and_synced_routers_learn_rechecks_as_the_live_one(store_of) -> None:
    live, peer = router(store_of(), 0), router(store_of(), 1)
    rng = np.random.default_rng(0)
    missed = False
    for i in range(400):
        call(live, i, rng)
        if i % 50 == 49:
            peer.sync()
            assert drift_state(peer) == drift_state(live), i
            missed |= any(d["misses"] > 0 for d, _ in drift_state(live).values())
    assert missed  # rechecks of the broken tool found nothing better, and waited longer
    reopened = router(store_of(), 2)
    assert drift_state(reopened) == drift_state(live) == drift_state(peer)
    assert statistics(reopened) == statistics(live) == statistics(peer)
    assert sum(s.rechecks for s in live.tool_statistics().values()) > 20
    stored = [r.recheck for r in reopened.store.attempts()]
    assert sum(stored) == sum(s.rechecks for s in live.tool_statistics().values())


def test_a_recheck_awaited_in_a_snapshot_is_counted_once_when_its_outcome_is_replayed(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'router.db'}"
    live = router(url, 0)
    rng = np.random.default_rng(0)
    for i in range(30):
        call(live, i, rng)
    route = live._routes[("news", "search")]
    while True:  # a decision that rechecks a tool, saved before its outcome comes
        ranking = live.rank_tool_ids("search", task_type="news")
        if ranking.recheck is not None:
            break
        live.record_attempt(ExecutionResult(tool_id=ranking[0], step="search", success=True, quality=1.0), capability="search", task_type="news")
    tool = ranking[0]
    assert route.drift[tool].pending
    live.save()
    live.record_attempt(ExecutionResult(tool_id=tool, step="search", success=False, quality=0.0), capability="search", task_type="news")
    reopened = router(url, 1)
    assert reopened.store.attempts()[-1].recheck
    assert drift_state(reopened) == drift_state(live)
    assert statistics(reopened) == statistics(live)


def test_a_cancelled_call_does_not_take_the_recheck_of_the_call_after_it() -> None:
    store = MemoryStore()
    live = router(store, 0)
    rng = np.random.default_rng(0)
    for i in range(30):
        call(live, i, rng)
    while (ranking := live.rank_tool_ids("search", task_type="news")).recheck is None:
        live.record_attempt(ExecutionResult(tool_id=ranking[0], step="search", success=True, quality=1.0), capability="search", task_type="news")
    tool = ranking[0]
    cancelled = ExecutionResult(tool_id=tool, step="search", success=False, quality=0.0, error=CANCELLED_BY_CALLER)
    live.record_attempt(cancelled, capability="search", task_type="news")
    live.record_attempt(ExecutionResult(tool_id=tool, step="search", success=True, quality=1.0), capability="search", task_type="news")
    assert [r.recheck for r in store.attempts()[-2:]] == [False, True]
    assert drift_state(router(store, 1)) == drift_state(live)


def test_a_version_3_sqlite_store_is_migrated_and_its_attempts_were_no_rechecks(tmp_path) -> None:
    path = tmp_path / "old.db"
    SQLiteStore(path).close()
    conn = sqlite3.connect(path)  # undo versions 4 to 7, as a store of version 3 kept no rechecks, identity, claims nor request keys
    conn.execute("DROP TABLE claims")
    conn.execute("ALTER TABLE attempts DROP COLUMN request_key")
    conn.execute("DELETE FROM meta WHERE key = 'store_id'")
    conn.execute("ALTER TABLE attempts DROP COLUMN recheck")
    conn.execute("DROP TABLE tool_removals")  # undo versions 8 to 10 too
    conn.execute("ALTER TABLE attempts DROP COLUMN conversation_id")
    conn.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
    conn.execute(
        "INSERT INTO attempts (writer, task_id, task_type, step, capability, tool_id, success, quality, cost, "
        "latency_s, utility, timestamp) VALUES ('old', 't', 'news', 'search', 'search', 'a', 1, 1, 0, 0, 1, "
        "'2026-01-01T00:00:00+00:00')"
    )
    conn.commit()
    conn.close()
    with SQLiteStore(path) as s:
        (old,) = s.log()
        assert old.tool_id == "a" and not old.recheck
        s.append([AttemptRecord("t2", "news", "search", "search", "a", True, 1.0, 0.0, 0.0, 1.0, recheck=True)])
        assert [r.recheck for r in s.attempts()] == [False, True]
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == str(SCHEMA_VERSION) == "10"
    conn.close()


def test_an_attempt_keeps_whether_it_was_a_recheck_in_the_outage_journal() -> None:
    rec = AttemptRecord("t", "news", "search", "search", "a", True, 1.0, 0.0, 0.0, 1.0, recheck=True)
    assert record_from_json(record_to_json(rec)).recheck is True
    with pytest.raises(TypeError, match="^recheck: expected a bool, got 'yes'"):
        AttemptRecord("t", "news", "search", "search", "a", True, 1.0, 0.0, 0.0, 1.0, recheck="yes")


def test_routers_on_postgresql_learn_rechecks_as_the_live_one(pg_url) -> None:
    live, peer = router(pg_url, 0), router(pg_url, 1)
    try:
        rng = np.random.default_rng(0)
        for i in range(300):
            call(live, i, rng)
        peer.sync()
        with router(pg_url, 2) as reopened:
            assert drift_state(reopened) == drift_state(live) == drift_state(peer)
            assert statistics(reopened) == statistics(live) == statistics(peer)
            stored = sum(r.recheck for r in reopened.store.attempts())
            assert stored == sum(s.rechecks for s in live.tool_statistics().values()) > 10
    finally:
        for r in (live, peer):
            r.close()


def test_a_version_5_postgresql_store_is_migrated_and_its_attempts_were_no_rechecks(pg_url, old_pg_store, pg_schema_version) -> None:
    from toolrouter.store import open_store
    from toolrouter.store.postgres_schema import SCHEMA_VERSION as PG_VERSION

    old_pg_store(
        5,
        "INSERT INTO toolrouter.attempts (id, writer, task_id, task_type, step, tool_id, success, quality, cost, "
        "latency_s, utility, timestamp) VALUES (toolrouter.attempt_id_base(), 'old', 't', 'news', 'search', 'a', "
        "true, 1, 0, 0, 1, now())",
    )
    with open_store(pg_url) as s:  # opening migrates it
        s.append([AttemptRecord("t2", "news", "search", "search", "a", True, 1.0, 0.0, 0.0, 1.0, recheck=True)])
        assert [(r.tool_id, r.recheck) for r in s.log()] == [("a", False), ("a", True)]
    assert pg_schema_version() == PG_VERSION == 14
