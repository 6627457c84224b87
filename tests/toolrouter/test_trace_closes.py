"""A trace closed unfinished is kept in the store's log, so that a router reopened on the store, or
another one syncing from it, learns the structures the live router learned."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone

import pytest

from toolrouter.attempts import CircuitBreakerConfig, ExecutorConfig, RetryPolicy
from toolrouter.executor import RunStatus, learner_executor
from toolrouter.learner import ToolMetaLearner
from toolrouter.models import ExecutionResult, TaskProfile, TaskStep, ToolProfile
from toolrouter.store import AttemptRecord, MemoryStore, SQLiteStore, Store, TraceClose, open_store
from toolrouter.store.journal import Journal, record_from_json, record_to_json
from toolrouter.store.sqlite import SCHEMA_VERSION

STEPS = [TaskStep(step_id="search", capability="search"), TaskStep(step_id="write", capability="llm", depends_on=["search"])]


def tools() -> list[ToolProfile]:
    return [ToolProfile(tool_id="web", capabilities=["search"]), ToolProfile(tool_id="gpt", capabilities=["llm"])]


def learned(router: ToolMetaLearner) -> dict[tuple, int]:
    """Per structure the router learned for 'research' (its capabilities), how many traces."""
    return {tuple(s.capability for s in p.steps): p.traces for p in router.structures.distribution("research") if p.traces}


def run(router: ToolMetaLearner, executor, i: int) -> RunStatus:
    return router.execute(TaskProfile(task_id=f"t{i}", task_type="research", steps=STEPS), executor=executor).status


def three_runs(router: ToolMetaLearner) -> None:
    """A run that finishes; one whose write step fails, which opens its circuit; one whose write step
    is skipped with no attempt (its search ran and succeeded): closed unfinished, it is no structure."""
    gpt_up = [True]

    def gpt(request):
        if gpt_up[0]:
            return "answer"
        raise ConnectionError("down")

    router.functions.update({"web": lambda r: "pages", "gpt": gpt})
    config = ExecutorConfig(timeout_s=0.5, retry=RetryPolicy(max_retries=0),
                            circuit_breaker=CircuitBreakerConfig(failure_threshold=1, reset_timeout_s=60.0))
    with learner_executor(router, config=config) as executor:
        assert run(router, executor, 0) is RunStatus.SUCCEEDED
        gpt_up[0] = False
        assert run(router, executor, 1) is RunStatus.PARTIAL
        router.save()  # the next run's close comes after the snapshot: a router resuming from it replays it
        assert run(router, executor, 2) is RunStatus.PARTIAL


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def url(request, tmp_path) -> str | Store:
    if request.param == "memory":
        return MemoryStore()
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'r.db'}"
    return request.getfixturevalue("pg_url")


def test_reopened_and_syncing_routers_learn_the_structures_the_live_one_did(url) -> None:
    live = ToolMetaLearner(tools(), seed=0, store=url)
    peer = ToolMetaLearner(tools(), seed=1, store=url)
    three_runs(live)
    expected = {("search", "llm"): 1}  # not the search alone of the run cut short
    assert learned(live) == expected
    peer.sync()
    resumed = ToolMetaLearner.load(url)  # the snapshot, then the log after it
    replayed = ToolMetaLearner(tools(), seed=2, store=url, snapshot_name="other")  # the whole log
    replayed.sync()
    assert learned(peer) == learned(resumed) == learned(replayed) == expected
    closes = [r for r in live.store.log() if isinstance(r, TraceClose)]
    assert [c.finished for c in closes] == [True, False, False] and all(c.writer == live.writer for c in closes)
    assert live.store.count() == len(live.store.attempts()) == 5  # the closes are no attempts
    for r in (peer, resumed, replayed, live):
        r.close()


def test_a_bad_finished_flag_is_refused_and_writes_nothing(tmp_path) -> None:
    router = ToolMetaLearner(tools(), seed=0, store=f"sqlite:///{tmp_path / 'r.db'}")
    router.learn_from_execution(TaskProfile(task_id="t", task_type="research"),
                                [ExecutionResult(tool_id="web", step="search", success=True)], trace_id="run")
    with pytest.raises(TypeError, match="^finished: expected True or False, got 'no'"):
        router.close_trace("run", finished="no")
    assert [type(r) for r in router.store.log()] == [AttemptRecord] and router.trace_steps("run")
    router.close()


def test_a_router_closed_while_its_run_ends_it_and_writes_the_close_first(tmp_path) -> None:
    router = ToolMetaLearner(tools(), seed=0, store=f"sqlite:///{tmp_path / 'r.db'}")

    def gpt(request):
        router.close()  # from a tool of the run: the router closes when the run has ended
        return "answer"

    router.functions.update({"web": lambda r: "pages", "gpt": gpt})
    execution = router.execute(TaskProfile(task_id="t", task_type="research", steps=STEPS),
                               config=ExecutorConfig(timeout_s=0.5, retry=RetryPolicy(max_retries=0)))
    assert execution.unlearned == [] and execution.run.succeeded and router.closed
    with open_store(f"sqlite:///{tmp_path / 'r.db'}") as s:
        assert [type(r) for r in s.log()] == [AttemptRecord, AttemptRecord, TraceClose]


@pytest.fixture
def store(url) -> Store:
    s = open_store(url)
    yield s
    s.close()


def attempt(tool_id: str, trace_id: str = "r") -> AttemptRecord:
    return AttemptRecord(task_id="t", task_type="research", step="search", capability="search", tool_id=tool_id,
                         success=True, quality=1.0, cost=0.0, latency_s=0.1, utility=1.0, writer="w", trace_id=trace_id)


def test_trace_closes_take_their_place_among_the_attempts(store: Store) -> None:
    ids = store.append([attempt("a"), TraceClose("r", False, writer="w")])
    ids += store.append([attempt("b"), attempt("c", "s"), TraceClose("s", True, writer="w")])
    assert ids == sorted(ids) and len(set(ids)) == 5
    log = store.log()
    assert [r.id for r in log] == ids
    assert [(type(r).__name__, getattr(r, "tool_id", None) or r.trace_id) for r in log] == [
        ("AttemptRecord", "a"), ("TraceClose", "r"), ("AttemptRecord", "b"), ("AttemptRecord", "c"), ("TraceClose", "s")]
    close = log[1]
    assert close.finished is False and close.writer == "w" and close.timestamp.tzinfo is timezone.utc
    assert [r.tool_id for r in store.attempts()] == ["a", "b", "c"] and store.count() == 3
    assert [r.tool_id for r in store.attempts(after_id=ids[0], limit=1)] == ["b"]
    assert [r.id for r in store.log(after_id=ids[1], limit=2)] == ids[2:4]
    assert {s.tool_id: s.calls for s in store.summary()} == {"a": 1, "b": 1, "c": 1}
    assert [r.id for r in store.iter_log(batch=2)] == ids
    assert store.prune(ids[1]) == 1  # one attempt went, and the close with it
    assert [r.id for r in store.log()] == ids[2:] and store.count() == 2
    assert store.pruned_upto() == ids[1]  # the close pruned last: a router that had not read it must resume
    (later,) = store.append([TraceClose("t", True)])
    assert later > ids[-1]
    with pytest.raises(TypeError, match="^records\\[0\\]: expected an AttemptRecord, a TraceClose or a ToolRemoval"):
        store.append([{"trace_id": "r"}])


def test_a_trace_close_refuses_what_no_store_can_keep() -> None:
    with pytest.raises(TypeError, match="^trace_id: expected a string, got 5"):
        TraceClose(5, True)
    with pytest.raises(TypeError, match="^finished: expected a bool, got 'yes'"):
        TraceClose("r", "yes")
    naive = TraceClose("r", True, timestamp=datetime(2026, 1, 1))
    assert naive.timestamp == datetime(2026, 1, 1, tzinfo=timezone.utc)


def test_a_version_2_sqlite_store_is_migrated_and_keeps_its_attempts(tmp_path) -> None:
    path = tmp_path / "old.db"
    SQLiteStore(path).close()
    conn = sqlite3.connect(path)  # undo versions 3 to 7, as a store of version 2 had no trace closes, rechecks, identity, claims nor request keys
    conn.execute("DROP TABLE claims")
    conn.execute("ALTER TABLE attempts DROP COLUMN request_key")
    conn.execute("DELETE FROM meta WHERE key = 'store_id'")
    conn.execute("DROP TABLE trace_closes")
    conn.execute("ALTER TABLE attempts DROP COLUMN recheck")
    conn.execute("DROP TABLE tool_removals")  # undo versions 8 to 10 too
    conn.execute("ALTER TABLE attempts DROP COLUMN conversation_id")
    conn.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    conn.execute(
        "INSERT INTO attempts (writer, task_id, task_type, step, capability, tool_id, success, quality, cost, "
        "latency_s, utility, timestamp, trace_id) VALUES ('old', 't', 'research', 'search', 'search', 'web', 1, 1, 0, "
        "0, 1, '2026-01-01T00:00:00+00:00', 'r')"
    )
    conn.commit()
    conn.close()
    with SQLiteStore(path) as s:
        (old,) = s.log()
        assert old.tool_id == "web" and old.trace_id == "r" and s.count() == 1
        ids = s.append([TraceClose("r", False), attempt("new")])
        assert ids == [2, 3] and [type(r).__name__ for r in s.log()] == ["AttemptRecord", "TraceClose", "AttemptRecord"]
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == str(SCHEMA_VERSION) == "10"
    conn.close()


def test_an_empty_sqlite_store_numbers_a_first_trace_close_like_a_first_attempt(tmp_path) -> None:
    with SQLiteStore(tmp_path / "r.db") as s:
        assert s.append([TraceClose("r", True)]) == [1]
        assert s.append([attempt("a")]) == [2]


def test_the_outage_journal_keeps_trace_closes_in_order(tmp_path) -> None:
    close = TraceClose("r", False, writer="w")
    assert record_from_json(record_to_json(close)) == close
    journal = Journal(tmp_path / "o.journal", "o", max_attempts=10)
    journal.add([1, 2], [attempt("a"), close])
    assert [(s, type(r).__name__) for s, r in journal.head(10)] == [(1, "AttemptRecord"), (2, "TraceClose")]
    journal.remove_upto(2)
    journal.close()


def test_trace_closes_written_in_an_outage_reach_the_server_in_order(pg_url, pg_database, postgres_server) -> None:
    from test_store_postgres import block, unblock

    live = ToolMetaLearner(tools(), seed=0, store=pg_url)
    peer = ToolMetaLearner(tools(), seed=1, store=pg_url)
    block(postgres_server, pg_database)
    try:
        three_runs_in_outage(live)
    finally:
        unblock(postgres_server, pg_database)
    for r in (live, peer):  # back online, the live router's journal written
        r.store.flush(timeout_s=10)
    peer.sync()
    live.sync()  # its own attempts and closes, back from the journal, are not learned twice
    assert learned(live) == learned(peer) == {("search", "llm"): 1}
    assert [c.finished for c in live.store.log() if isinstance(c, TraceClose)] == [True, False, False]
    for r in (peer, live):
        r.close()


def three_runs_in_outage(router: ToolMetaLearner) -> None:
    """``three_runs`` while the server is away (a snapshot cannot be saved then)."""
    save, router.save = router.save, lambda: None
    try:
        three_runs(router)
    finally:
        router.save = save
    assert router.store.pending == 8  # 5 attempts and 3 closes wait in the journal


def test_a_version_4_postgresql_store_is_migrated_and_keeps_its_attempts(pg_url, old_pg_store, pg_schema_version) -> None:
    from toolrouter.store.postgres_schema import SCHEMA_VERSION as PG_VERSION

    old_pg_store(
        4,
        "INSERT INTO toolrouter.attempts (id, writer, task_id, task_type, step, tool_id, success, quality, cost, "
        "latency_s, utility, timestamp, trace_id) VALUES (toolrouter.attempt_id_base(), 'old', 't', 'research', "
        "'search', 'web', true, 1, 0, 0, 1, now(), 'r')",
    )
    with open_store(pg_url) as s:  # opening migrates it
        (old,) = s.log()
        ids = s.append([TraceClose("r", False), attempt("new")])
        assert old.id < ids[0] < ids[1] and [type(r).__name__ for r in s.log()] == ["AttemptRecord", "TraceClose", "AttemptRecord"]
    assert pg_schema_version() == PG_VERSION == 14
