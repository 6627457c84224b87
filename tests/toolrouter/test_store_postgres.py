"""The PostgreSQL store against a real server: the store suite every store passes, plus the order of
ids against commit order, migrations, bad URLs and credentials, concurrent snapshots, notifications
and outages."""

from __future__ import annotations

import contextlib
import os
import re
import select
import socket
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import psycopg
import pytest
from test_store import (  # the suite every store passes, run here on PostgreSQL
    record,
    test_a_snapshot_with_a_bad_name_data_or_watermark_is_refused_naming_it,  # noqa: F401
    test_an_append_of_what_is_not_attempt_records_is_refused_naming_it,  # noqa: F401
    test_append_and_read_back_in_id_order,  # noqa: F401
    test_iter_attempts_reads_in_batches,  # noqa: F401
    test_prune_deletes_what_every_snapshot_holds_and_never_reuses_an_id,  # noqa: F401
    test_snapshot_is_never_replaced_by_an_older_one,  # noqa: F401
    test_summary_per_task_type_step_and_tool,  # noqa: F401
    test_timestamps_read_back_in_utc_a_naive_one_taken_as_utc_as_an_execution_result_does,  # noqa: F401
    test_timestamps_survive_the_round_trip,  # noqa: F401
)
from test_store_identity import saved_before_store_ids

from toolrouter import TaskProfile, ToolMetaLearner
from toolrouter.bench._postgres_server import LocalPostgres
from toolrouter.errors import StoreOpenError
from toolrouter.simulation import SyntheticEnvironment
from toolrouter.store import PostgresStore, Store, StoreUnavailableError, open_store
from toolrouter.store.postgres_schema import CHANNEL, SCHEMA_VERSION, migrate


@pytest.fixture
def store(pg_url: str) -> Store:
    s = open_store(pg_url)
    yield s
    s.close()


def block(server: LocalPostgres, database: str) -> None:
    """An outage of one database: no new connections, the open ones cut."""
    server.sql(f"ALTER DATABASE {database} ALLOW_CONNECTIONS false")
    server.sql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{database}'")


def unblock(server: LocalPostgres, database: str) -> None:
    server.sql(f"ALTER DATABASE {database} ALLOW_CONNECTIONS true")


def refuse_inserts(server: LocalPostgres, database: str, message: str, when: str = "true", table: str = "attempts") -> None:
    """A trigger that refuses, raising ``message``, each row inserted into ``table`` for which the
    SQL condition ``when`` on ``NEW`` holds (a refusal the server makes for the row's own sake)."""
    server.sql(
        "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
        f"$$ BEGIN IF {when} THEN RAISE EXCEPTION '{message}'; END IF; RETURN NEW; END $$",
        database,
    )
    server.sql(f"CREATE TRIGGER refuse BEFORE INSERT ON toolrouter.{table} FOR EACH ROW EXECUTE FUNCTION refuse()", database)


def flush_refused(store, words: str) -> str:  # type: ignore[no-untyped-def]
    """The message of ``store.flush``'s refusal once the store's thread has tried to write its
    journal and met the server's refusal holding ``words`` (each flush wakes the thread)."""
    for _ in range(100):
        with pytest.raises(StoreUnavailableError) as refused:
            store.flush(timeout_s=0.05)
        if words in str(refused.value):
            break
    return str(refused.value)


def wait_for(condition, timeout_s: float = 10.0) -> float:
    """Seconds until ``condition()`` holds; fails after ``timeout_s``."""
    start = time.perf_counter()
    while not condition():
        assert time.perf_counter() - start < timeout_s, "timed out"
        time.sleep(0.01)
    return time.perf_counter() - start


def test_open_store_opens_postgresql_urls_and_masks_the_password(pg_url: str, postgres_server: LocalPostgres) -> None:
    with open_store(pg_url) as s:
        assert isinstance(s, PostgresStore)
        assert postgres_server.password not in s.url and s.url.startswith("postgresql://router:***@127.0.0.1:")
        assert postgres_server.password not in repr(ToolMetaLearner([], store=s))
    with open_store(pg_url.replace("postgresql://", "postgres://", 1)) as s:  # libpq's other spelling
        assert isinstance(s, PostgresStore)


def test_a_reader_never_steps_over_a_slow_transaction(pg_url: str, pg_database: str, postgres_server: LocalPostgres) -> None:
    writers = [open_store(pg_url) for _ in range(4)]
    reader = open_store(pg_url)
    # a trigger makes the append of tool 'slow' sleep inside its transaction, after it took its id
    postgres_server.sql(
        "CREATE FUNCTION slow_insert() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN IF NEW.tool_id = 'slow' THEN PERFORM pg_sleep(0.6); END IF; RETURN NEW; END $$",
        pg_database,
    )
    postgres_server.sql(
        "CREATE TRIGGER slow BEFORE INSERT ON toolrouter.attempts FOR EACH ROW EXECUTE FUNCTION slow_insert()",
        pg_database,
    )
    writers[0].append([record("a")])
    done = threading.Event()
    seen: list[int] = []

    def read() -> None:  # a router catching up: it must never step over an id it will see later
        while True:
            finished = done.is_set()
            seen.extend(r.id for r in reader.attempts(seen[-1] if seen else 0))
            if finished:
                return
            time.sleep(0.002)

    slow_ids: list[int] = []
    fast_ids: list[int] = []
    threads = [threading.Thread(target=read), threading.Thread(target=lambda: slow_ids.extend(writers[1].append([record("slow")])))]
    for t in threads:
        t.start()
    time.sleep(0.1)  # the slow append holds its id now; the others queue behind it

    def fast(s: Store) -> None:
        for _ in range(10):
            fast_ids.extend(s.append([record("b")]))

    writing = [threading.Thread(target=fast, args=(s,)) for s in (writers[2], writers[3])]
    for t in writing:
        t.start()
    for t in writing:
        t.join()
    assert threads[1].is_alive()  # the fast appends committed while the slow one still ran
    threads[1].join()
    done.set()
    threads[0].join()
    (first,) = [r.id for r in reader.attempts()[:1]]
    assert len(slow_ids) == 1 and len(fast_ids) == 20 and first < slow_ids[0] < min(fast_ids)  # took its id first
    # the fast appends committed first but stayed out of sight until the slow one ended: all read,
    # each exactly once, in id order, so none was stepped over
    assert seen == sorted([first] + slow_ids + fast_ids)
    for s in writers + [reader]:
        s.close()


def test_an_append_never_waits_for_a_lock_longer_than_timeout(pg_url: str, pg_database: str, postgres_server: LocalPostgres) -> None:
    with open_store(f"{pg_url}&timeout_s=0.3&retry_s=0.05") as s:
        s.append([record("a")])
        holder = psycopg.connect(postgres_server.url(pg_database))
        holder.execute("LOCK TABLE toolrouter.attempts IN SHARE MODE")  # a stuck job holds off every insert
        start = time.perf_counter()
        assert s.append([record("b")]) == []  # kept in the journal instead
        assert time.perf_counter() - start < 0.6
        assert s.pending == 1
        holder.rollback()
        holder.close()
        s.flush(timeout_s=10)
        assert [r.tool_id for r in s.attempts()] == ["a", "b"] and s.pending == 0


def test_migrates_an_older_schema_and_refuses_a_newer_one(pg_database: str, postgres_server: LocalPostgres, tmp_path: Path, old_pg_store) -> None:
    url = f"{postgres_server.url(pg_database)}?journal_dir={tmp_path}"
    old_pg_store(  # a database made by the first version of the store
        1,
        "INSERT INTO toolrouter.attempts (writer, task_id, task_type, step, capability, tool_id, success, "
        "quality, cost, latency_s, utility, timestamp) SELECT 'old', 't', 'default', 's', 's', 'a', true, "
        "1, 0, 0, 1, now() FROM generate_series(1, 3)",
    )
    with open_store(url) as s:  # opening migrates it
        assert [r.id for r in s.attempts()] == [1, 2, 3] and s.attempts()[0].writer == "old"
        (new,) = s.append([record("new")])
        assert new > 3 and [r.id for r in s.attempts(after_id=3)] == [new]
    with psycopg.connect(postgres_server.url(pg_database), autocommit=True) as conn:
        assert conn.execute("SELECT value FROM toolrouter.meta WHERE key = 'schema_version'").fetchone()[0] == str(SCHEMA_VERSION)
        conn.execute("UPDATE toolrouter.meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(StoreOpenError, match=f"schema_version 99, this toolrouter knows up to {SCHEMA_VERSION}"):
        open_store(url)


def test_hosts_opening_a_new_database_at_once_migrate_it_once(pg_url: str) -> None:
    stores: list[Store] = []
    errors: list[BaseException] = []

    def open_one() -> None:
        try:
            stores.append(open_store(pg_url))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(stores) == 6
    assert [s.append([record(str(i))]) for i, s in enumerate(stores)] and stores[0].count() == 6
    for s in stores:
        s.close()


def test_refuses_a_toolrouter_schema_that_is_not_a_store(pg_url: str, pg_database: str, postgres_server: LocalPostgres) -> None:
    postgres_server.sql("CREATE SCHEMA toolrouter; CREATE TABLE toolrouter.notes (x int)", pg_database)
    with pytest.raises(StoreOpenError, match=r"holds tables \['notes'\].*not a toolrouter store"):
        open_store(pg_url)


@pytest.mark.parametrize(
    "make_url, problem",
    [
        (lambda s, db: s.url(db, password="wrong"), 'password authentication failed for user "router"'),
        (lambda s, db: s.url("nosuchdb"), 'database "nosuchdb" does not exist'),
        (lambda s, db: f"postgresql://router:pw@127.0.0.1:1/{db}", "Connection refused"),
        (lambda s, db: f"postgresql://router:pw@127.0.0.1:notaport/{db}", "invalid integer value"),
        (lambda s, db: s.url(db) + "?bogus=1", 'invalid URI query parameter: "bogus"'),
        (lambda s, db: f"postgresql://router:pw@[127.0.0.1:5432/{db}", "malformed URL: Invalid IPv6 URL"),
        (lambda s, db: s.url(db) + "?timeout_s=-1", "timeout_s='-1': Input should be greater than 0"),
        (lambda s, db: s.url(db) + "?listen=maybe", "listen='maybe'"),
        (lambda s, db: s.url(db) + "?journal_dir=/etc/passwd/journals", "journal_dir: cannot make '/etc/passwd/journals/"),
    ],
)
def test_bad_urls_and_wrong_credentials_give_one_clear_error(postgres_server: LocalPostgres, pg_database: str, make_url, problem: str) -> None:
    url = make_url(postgres_server, pg_database)
    with pytest.raises(StoreOpenError) as info:
        open_store(url)
    message = str(info.value)
    assert problem in message and "\n" not in message
    assert message.startswith("store 'postgres") and ":***@" in message  # the URL, its password masked
    assert postgres_server.password not in message and ":pw@" not in message and ":wrong@" not in message
    assert info.value.__cause__ is None and info.value.__suppress_context__  # one error, not a chain


def test_without_psycopg_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(ImportError, match=r'pip install "toolrouter\[postgres\]"'):
        open_store("postgresql://u:p@127.0.0.1:1/db")


def test_concurrent_snapshots_keep_the_newest(pg_url: str) -> None:
    stores = [open_store(pg_url) for _ in range(6)]
    stores[0].append([record()])  # its id is above 59: every watermark below counts attempts it gave out
    watermarks = list(range(60))
    np.random.default_rng(0).shuffle(watermarks)
    written = []

    def put(k: int) -> None:
        for w in watermarks[k::6]:
            written.append((w, stores[k].put_snapshot("learner", f"state-{w}".encode() * 1000, w)))

    threads = [threading.Thread(target=put, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    snap = stores[0].get_snapshot("learner")
    assert (snap.watermark, snap.data) == (59, b"state-59" * 1000)
    assert (59, True) in written and any(not ok for _, ok in written)  # older ones were refused
    for s in stores:
        s.close()


def test_notifications_reach_other_stores_and_polling_covers_without_them(pg_url: str) -> None:
    writer = open_store(pg_url)
    listening = open_store(pg_url + "&poll_s=30")  # only a notification can be this fast
    polling = open_store(pg_url + "&listen=false&poll_s=0.2")
    heard: dict[str, list[int]] = {"listening": [], "polling": []}
    cancel = listening.on_new_attempts(heard["listening"].append)
    polling.on_new_attempts(heard["polling"].append)
    time.sleep(0.2)
    b = writer.append([record("a"), record("b")])[-1]
    assert wait_for(lambda: b in heard["listening"], timeout_s=5) < 1.0
    assert wait_for(lambda: b in heard["polling"], timeout_s=5) < 1.0
    cancel()
    (c,) = writer.append([record("c")])
    assert wait_for(lambda: c in heard["polling"], timeout_s=5) < 1.0
    time.sleep(0.1)
    assert c not in heard["listening"]  # cancelled
    for s in (writer, listening, polling):
        s.close()


def test_a_notification_says_how_far_to_read_and_one_without_an_id_is_looked_up(pg_url: str) -> None:
    writer = open_store(pg_url)
    listening = open_store(pg_url + "&poll_s=30")  # only a notification can be this fast
    heard: list[int] = []
    listening.on_new_attempts(heard.append)
    time.sleep(0.2)
    (b,) = writer.append([record("a")])
    # an id above the append's, from the notification itself: no position on the server is that high
    assert wait_for(lambda: any(h > b for h in heard), timeout_s=5) < 1.0
    wait_for(lambda: b in heard, timeout_s=5)  # the look once more after the gap finds the append
    heard.clear()
    writer._notify_after = float("inf")  # this append does not notify ...
    (c,) = writer.append([record("c")])
    with psycopg.connect(pg_url.split("?")[0], autocommit=True) as conn:
        conn.execute(f"NOTIFY {CHANNEL}")  # ... a notification without an id (as older writers send)
    assert wait_for(lambda: c in heard, timeout_s=5) < 1.0  # the listener reads the position
    assert max(heard) == c
    writer.close()
    listening.close()


def test_a_router_on_another_host_learns_an_outcome_before_its_next_choice(pg_url: str) -> None:
    env = SyntheticEnvironment.make(n_tools=3, capabilities=("search",), seed=1)
    a = ToolMetaLearner(env.profiles, store=pg_url, seed=1, sync_every=None)
    b = ToolMetaLearner(env.profiles, store=pg_url, seed=2, sync_every=None)  # never syncs on its own count
    task = TaskProfile(task_id="t", required_capabilities=["search"])
    tool = next(iter(env.profiles))
    from toolrouter import ExecutionResult

    for _ in range(20):
        a.learn_from_execution(task, [ExecutionResult(tool_id=tool, step="search", success=False, latency_s=1.0)])
    delay = wait_for(lambda: not b._caught_up)  # told by the store's notification
    b.optimize_task_execution(task)  # the next choice catches up first
    assert b.tool_statistics()[tool].calls == 20 and delay < 1.0
    a.close()
    b.close()


def test_an_outage_keeps_attempts_in_the_journal_and_writes_them_once_in_order(
    pg_url: str, pg_database: str, postgres_server: LocalPostgres, tmp_path: Path
) -> None:
    s = open_store(f"{pg_url}&timeout_s=0.5&retry_s=0.05&journal_max_attempts=5")
    s.append([record("before")])
    block(postgres_server, pg_database)
    try:
        start = time.perf_counter()
        assert [s.append([record(f"r{i}")]) for i in range(7)] == [[]] * 7
        assert time.perf_counter() - start < 1.0  # the first finds the outage, the rest do not wait
        assert (s.pending, s.dropped, s.online) == (5, 2, False)
        with pytest.raises(StoreUnavailableError, match="unreachable"):
            s.attempts()
        with pytest.raises(StoreUnavailableError, match=r"5 attempts, trace closes or tool removals wait in the journal"):
            s.flush(timeout_s=0.2)
        journals = list((tmp_path / "journal").rglob("*.journal"))
        assert len(journals) == 1
    finally:
        unblock(postgres_server, pg_database)
    s.flush(timeout_s=10)
    rows = s.attempts()
    assert [r.tool_id for r in rows] == ["before", "r0", "r1", "r2", "r3", "r4"]  # the journal kept the oldest
    assert s.pending == 0 and s.online
    (after,) = s.append([record("after")])
    assert after > rows[-1].id and [r.tool_id for r in s.attempts(rows[-1].id)] == ["after"]
    s.close()
    assert not journals[0].exists()  # an empty journal is removed


def test_an_outage_with_a_journal_that_cannot_be_written_fails_no_call(
    pg_url: str, pg_database: str, postgres_server: LocalPostgres, tmp_path: Path
) -> None:
    s = open_store(f"{pg_url}&timeout_s=0.5&retry_s=0.05")
    (tmp_path / "journal").write_text("a file where the journal folder was to be made")
    block(postgres_server, pg_database)
    try:
        assert s.append([record("lost")]) == []  # not an OSError out of the call that made it
        assert (s.pending, s.dropped) == (0, 1)  # counted, as a full journal's are
    finally:
        unblock(postgres_server, pg_database)
    s.flush(timeout_s=10)
    s.append([record("after")])
    assert [r.tool_id for r in s.attempts()] == ["after"]
    s.close()


def test_a_journaled_attempt_whose_first_write_committed_is_written_once(store: PostgresStore) -> None:
    # the answer to a commit can be lost with the connection: the journal then holds an attempt the
    # server already has, under the same key
    with store._pool.connection() as conn:
        first = store._write(conn, "host-a", [1, 2], [record("a"), record("b")])
        again = store._write(conn, "host-a", [1, 2, 3], [record("a"), record("b"), record("c")])
        other = store._write(conn, "host-b", [1], [record("d")])  # another origin's key 1
    assert sorted(first) == [1, 2] and sorted(again) == [3] and sorted(other) == [1]
    rows = store.attempts()
    assert [r.tool_id for r in rows] == ["a", "b", "c", "d"]
    assert [r.id for r in rows] == [first[1], first[2], again[3], other[1]]


def test_a_router_routes_through_an_outage_and_counts_each_attempt_once(pg_url: str, pg_database: str, postgres_server: LocalPostgres) -> None:
    from toolrouter import ExecutionResult

    url = f"{pg_url}&timeout_s=0.5&retry_s=0.05"
    env = SyntheticEnvironment.make(n_tools=3, capabilities=("search",), seed=5)
    router = ToolMetaLearner(env.profiles, store=url, seed=5, sync_every=5)
    other = ToolMetaLearner(env.profiles, store=url, seed=6, sync_every=5)
    task = TaskProfile(task_id="t", required_capabilities=["search"])

    def step(r: ToolMetaLearner) -> float:
        start = time.perf_counter()
        tool = r.optimize_task_execution(task).tool_for("search")
        r.learn_from_execution(task, [ExecutionResult(tool_id=tool, step="search", success=True)])
        return time.perf_counter() - start

    for _ in range(10):
        step(router)
        step(other)
    block(postgres_server, pg_database)
    try:
        slowest = max(step(router) for _ in range(15))
        assert slowest < 1.0 and router.store.pending == 15
        with pytest.raises(StoreUnavailableError):
            router.save()
    finally:
        unblock(postgres_server, pg_database)
    for _ in range(5):
        step(other)
    other.store.flush(timeout_s=10)  # its store may still be reconnecting: these may wait in its journal
    router.save()  # writes the journal, catches up, saves
    calls = lambda r: sum(s.calls for s in r.tool_statistics().values())  # noqa: E731
    other.sync()
    assert router.store.count() == 40 and calls(router) == 40 and calls(other) == 40
    resumed = ToolMetaLearner.load(url)
    assert calls(resumed) == 40
    for r in (router, other, resumed):
        r.close()


def test_a_journal_is_adopted_only_by_a_store_of_its_own_database(
    postgres_server: LocalPostgres, pg_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from psycopg.conninfo import conninfo_to_dict

    from toolrouter.store.journal import Journal
    from toolrouter.store.postgres import _journal_dir

    monkeypatch.setenv("TOOLROUTER_JOURNAL_DIR", str(tmp_path))  # where journals go without journal_dir=
    mine = postgres_server.url(pg_database)
    other = postgres_server.create_database(f"{pg_database}_other")
    try:
        folder = _journal_dir(None, conninfo_to_dict(mine))
        assert folder.parent == tmp_path
        orphan = Journal.for_origin(folder, "dead-process", max_attempts=10)
        orphan.add([1, 2], [record("o1"), record("o2")])
        orphan.close()  # its process is gone: the file stays, unlocked
        with open_store(other) as s:
            assert s.count() == 0  # another database's journal is not its business
        assert (folder / "dead-process.journal").exists()
        with open_store(mine) as s:
            assert [r.tool_id for r in s.attempts()] == ["o1", "o2"]
        assert not (folder / "dead-process.journal").exists()
    finally:
        postgres_server.drop_database(f"{pg_database}_other")


def _held_insert(conn: psycopg.Connection, tool_id: str) -> None:
    """An attempt inserted as the store appends it, in ``conn``'s transaction, left open."""
    conn.execute(
        "INSERT INTO toolrouter.attempts (id, origin, origin_seq, writer, task_id, task_type, step, capability, "
        "tool_id, success, quality, cost, latency_s, utility, timestamp) VALUES (toolrouter.attempt_id_base(), "
        "'held', 1, 'held', 't', 'default', 'search', 'search', %s, true, 1, 0, 0, 1, now())",
        (tool_id,),
    )


def test_an_attempt_committing_after_a_later_one_is_caught_up_once(pg_url: str, pg_database: str, postgres_server: LocalPostgres) -> None:
    from toolrouter import ExecutionResult

    env = SyntheticEnvironment.make(n_tools=2, capabilities=("search",), seed=3)
    tool = next(iter(env.profiles))
    task = TaskProfile(task_id="t", required_capabilities=["search"])
    a = ToolMetaLearner(env.profiles, store=pg_url, seed=1, sync_every=None)
    b = ToolMetaLearner(env.profiles, store=pg_url, seed=2, sync_every=None)
    calls = lambda r: r.tool_statistics()[tool].calls  # noqa: E731
    holder = psycopg.connect(postgres_server.url(pg_database))  # a transaction of its own, kept open
    _held_insert(holder, tool)
    for _ in range(5):  # these commit after the held one took its id, and before it commits
        a.learn_from_execution(task, [ExecutionResult(tool_id=tool, step="search", success=True)])
    assert b.sync() == 0 and calls(b) == 0  # nothing shows while an older transaction runs
    a.save()  # its snapshot cannot include the held attempt
    holder.commit()
    holder.close()
    assert b.sync() == 6 and b.sync() == 0 and calls(b) == 6  # the held one too, each exactly once
    assert a.sync() == 1 and calls(a) == 6  # its own five it had applied when it recorded them
    resumed = ToolMetaLearner.load(pg_url)  # the snapshot plus every attempt after it
    assert calls(resumed) == 6
    rows = resumed.store.attempts()
    assert rows[0].writer == "held" and len(rows) == 6  # the held attempt took the smallest id
    for r in (a, b, resumed):
        r.close()


def test_migrates_a_version_3_log_and_resumes_exactly(pg_database: str, postgres_server: LocalPostgres, tmp_path: Path) -> None:
    from toolrouter import ExecutionResult

    env = SyntheticEnvironment.make(n_tools=3, capabilities=("search",), seed=4)
    tools = list(env.profiles)
    task = TaskProfile(task_id="t", required_capabilities=["search"])

    def learn(router: ToolMetaLearner, n: int) -> None:
        for i in range(n):
            router.learn_from_execution(task, [ExecutionResult(tool_id=tools[i % 3], step="search", success=i % 2 == 0)])

    # a log and snapshot as version 3 kept them: ids from the counter, published in durable_upto
    with ToolMetaLearner(env.profiles, store=f"sqlite:///{tmp_path / 'v3.db'}", seed=4, sync_every=None) as old:
        learn(old, 5)
        old.save()  # the snapshot holds five attempts, the log two more after it
        learn(old, 2)
        rows = old.store.attempts()
        snapshots = [old.store.get_snapshot(name) for name in old.store.snapshot_names()]
    assert [r.id for r in rows] == list(range(1, 8))
    with psycopg.connect(postgres_server.url(pg_database), autocommit=True) as conn:
        assert migrate(conn, target=3) == (0, 3)
        for r in rows:
            conn.execute(
                "INSERT INTO toolrouter.attempts (id, origin, origin_seq, writer, task_id, task_type, step, capability, "
                "tool_id, success, quality, cost, latency_s, utility, timestamp) "
                "VALUES (%s, 'v3', %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (r.id, r.id, r.writer, r.task_id, r.task_type, r.step, r.capability, r.tool_id, r.success, r.quality,
                 r.cost, r.latency_s, r.utility, r.timestamp),
            )
        conn.execute("UPDATE toolrouter.attempt_counter SET last_id = 7")
        conn.execute("UPDATE toolrouter.durable_upto SET upto = 7")
        for snap in snapshots:  # naming no store, as state saved then did
            data = saved_before_store_ids(snap.data)
            conn.execute("INSERT INTO toolrouter.snapshots VALUES (%s, %s, now(), %s)", (snap.name, snap.watermark, data))
    url = f"{postgres_server.url(pg_database)}?journal_dir={tmp_path / 'journal'}"
    resumed = ToolMetaLearner.load(url)  # opening migrates to the current version
    stats = lambda r: {t: (s.calls, s.successes) for t, s in r.tool_statistics().items()}  # noqa: E731
    expected = {t: (sum(r.tool_id == t for r in rows), sum(r.tool_id == t and r.success for r in rows)) for t in tools}
    assert stats(resumed) == expected  # 7 attempts: every row kept, the snapshot's watermark still right
    learn(resumed, 3)
    resumed.save()
    new = [r.id for r in resumed.store.attempts(after_id=7)]
    assert len(new) == 3 and new == sorted(new) and new[0] > 7  # above every row already in the log
    again = ToolMetaLearner.load(url)
    assert stats(again) == stats(resumed) and sum(c for c, _ in stats(again).values()) == 10
    with psycopg.connect(postgres_server.url(pg_database), autocommit=True) as conn:
        version = conn.execute("SELECT value FROM toolrouter.meta WHERE key = 'schema_version'").fetchone()[0]
        gone = conn.execute("SELECT to_regclass('toolrouter.attempt_counter'), to_regclass('toolrouter.durable_upto')").fetchone()
    assert version == str(SCHEMA_VERSION) and gone == (None, None)  # a router of version 3 cannot write below the new ids
    for r in (resumed, again):
        r.close()


def test_a_nul_in_text_is_stored_as_a_replacement_character(store: PostgresStore) -> None:
    # PostgreSQL's text cannot hold NUL: a tool whose error message has one must not fail the append
    store.append([record("a", success=False, error="bad\x00byte", request="why\x00")])
    (got,) = store.attempts()
    assert got.error == "bad\ufffdbyte" and got.request == "why\ufffd" and got.tool_id == "a"


def test_an_append_prepares_its_statement_again_when_the_session_lost_it(pg_url: str) -> None:
    store = open_store(pg_url + "&pool_max=1")
    store.append([record("a")])  # prepared on the one pooled connection
    with store._pool.connection() as conn:
        conn.execute("DEALLOCATE ALL")  # what a pooler or a reset may do to a session
    store.append([record("b")])
    assert [r.tool_id for r in store.attempts()] == ["a", "b"]
    store.close()


def test_an_append_of_more_attempts_than_one_transaction_can_number_is_refused(store: PostgresStore) -> None:
    from toolrouter.store.postgres_schema import MAX_APPEND

    with pytest.raises(ValueError, match=f"records: at most {MAX_APPEND} attempts an append, got {MAX_APPEND + 1}"):
        store.append([record("a")] * (MAX_APPEND + 1))
    assert store.count() == 0 and store.append([record("a")])  # nothing written, the store still usable


def test_a_closed_store_says_so_naming_itself_and_writes_to_no_other_file(pg_url: str, tmp_path: Path) -> None:
    # reads after close were taken for an outage, and the outage's wake-up was written to the number
    # of the store's closed pipe, which the next files opened take
    store = open_store(pg_url)
    store.close()
    others = [open(tmp_path / f"other{i}.txt", "w") for i in range(8)]
    uses = (lambda: store.append([record("a")]), store.count, store.attempts, store.summary, store.snapshot_names,
            lambda: store.get_snapshot("learner"), lambda: store.put_snapshot("learner", b"x", 1), lambda: store.prune(1))
    for use in uses:
        with pytest.raises(ValueError, match=rf"^store {re.escape(repr(store.url))}: closed$"):
            use()
    store.flush()  # nothing waits in it: a router saving its state to a file after close may call it
    for f in others:
        f.close()
    assert [(tmp_path / f"other{i}.txt").read_text() for i in range(8)] == [""] * 8


def test_a_snapshot_says_when_it_was_saved_in_utc_whatever_the_servers_time_zone(
    pg_url: str, pg_database: str, postgres_server: LocalPostgres
) -> None:
    # toolrouter stats prints the time with "UTC": it was the session's time zone's local time
    postgres_server.sql(f"ALTER DATABASE {pg_database} SET timezone = 'America/New_York'")
    with open_store(pg_url) as store:
        store.append([record()])
        store.put_snapshot("learner", b"state", 1)
        created = store.get_snapshot("learner").created
    assert created.utcoffset() == timedelta(0)
    assert abs(created.replace(tzinfo=None) - datetime.now(timezone.utc).replace(tzinfo=None)) < timedelta(minutes=5)


class Relay:
    """A TCP relay to the test server that can stop relaying: a server that keeps its connections
    open and answers nothing (frozen, or waiting on its disk)."""

    def __init__(self, port: int) -> None:
        self.upstream = port
        self.frozen = False
        self.closed = False
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closed:
            try:
                client, _ = self.listener.accept()
                server = socket.create_connection(("127.0.0.1", self.upstream))
            except OSError:
                return
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while not self.closed:
                if self.frozen or not select.select([src], [], [], 0.02)[0] or self.frozen:
                    time.sleep(0.01)
                    continue
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.closed = True
        self.listener.close()


def test_an_append_to_a_server_that_stops_answering_waits_at_most_timeout(pg_url: str, postgres_server: LocalPostgres) -> None:
    # libpq waited for the answer forever: one routed call held until the server came back
    relay = Relay(postgres_server.port)
    store = open_store(pg_url.replace(f":{postgres_server.port}/", f":{relay.port}/") + "&timeout_s=0.5&retry_s=0.05")
    try:
        store.append([record("a")])
        relay.frozen = True
        answers: list = []
        start = time.perf_counter()
        worker = threading.Thread(target=lambda: answers.append(store.append([record("b")])), daemon=True)
        worker.start()
        worker.join(timeout=10)  # a hang detector
        assert not worker.is_alive() and answers == [[]] and time.perf_counter() - start < 5
        assert store.append([record("c")]) == [] and store.pending == 2  # the outage is known: no wait
    finally:
        relay.frozen = False
    store.flush(timeout_s=20)
    assert [r.tool_id for r in store.attempts()] == ["a", "b", "c"]
    store.close()
    relay.close()


def test_a_store_in_a_process_holding_many_files_stays_online_and_hears_the_others(pg_url: str, tmp_path: Path) -> None:
    # the store's thread waited with select(), which refuses descriptors from 1,024 on: it died, and
    # the store sent every attempt to its journal from then on
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 1200:
        pytest.skip(f"this process may open at most {hard} files")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 1200), hard))
    held = [open(tmp_path / "held", "w") for _ in range(1030)]
    try:
        writer, listening = open_store(pg_url), open_store(pg_url)
        heard: list[int] = []
        listening.on_new_attempts(heard.append)
        time.sleep(0.3)  # a few turns of both stores' threads
        (a,) = writer.append([record("a")])
        wait_for(lambda: a in heard, timeout_s=5)
        assert writer.online and listening.online and writer.pending == 0
        writer.close()
        listening.close()
    finally:
        for f in held:
            f.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_process_is_told_to_open_its_own_store_and_leaves_the_parents_sessions_alone(store: PostgresStore) -> None:
    # the child sent statements on the parent's pooled sessions under the parent's keys (answers
    # read by the wrong process: KeyError, TypeError), and its close ended those sessions
    from test_store_errors import said_in_a_fork

    store.append([record("parent")])
    said = said_in_a_fork(store, (lambda: store.append([record("child")]), store.count, store.attempts))
    assert said.count(f"opened in process {os.getpid()}, used in process ") == 3, said
    assert store.append([record("parent again")]) != []  # its sessions are still open
    assert [r.tool_id for r in store.attempts()] == ["parent", "parent again"] and store.online


def _relayed(pg_url: str, server: LocalPostgres, relay: Relay, options: str) -> str:
    return pg_url.replace(f":{server.port}/", f":{relay.port}/") + options


def test_a_catch_up_read_from_a_server_that_stops_answering_gives_up_within_timeout(
    pg_url: str, postgres_server: LocalPostgres
) -> None:
    # psycopg waited for the answer forever: the router's next decision after a notification hung
    relay = Relay(postgres_server.port)
    env = SyntheticEnvironment.make(n_tools=2, capabilities=("search",), seed=1)
    writer = ToolMetaLearner(env.profiles, store=pg_url, seed=1, sync_every=None)
    router = ToolMetaLearner(
        env.profiles, store=_relayed(pg_url, postgres_server, relay, "&timeout_s=0.5&retry_s=0.05"), seed=2, sync_every=None
    )
    task = TaskProfile(task_id="t", required_capabilities=["search"])
    tool = next(iter(env.profiles))
    from toolrouter import ExecutionResult

    try:
        writer.learn_from_execution(task, [ExecutionResult(tool_id=tool, step="search", success=True)])
        wait_for(lambda: not router._caught_up)  # told by the store's notification
        relay.frozen = True
        plans: list = []
        start = time.perf_counter()
        worker = threading.Thread(target=lambda: plans.append(router.optimize_task_execution(task)), daemon=True)
        worker.start()
        worker.join(timeout=20)  # a hang detector
        assert not worker.is_alive() and len(plans) == 1 and time.perf_counter() - start < 5
        assert router.tool_statistics()[tool].calls == 0  # routed on from what it knew
        assert not router.store.online  # an outage, as when the server is down
    finally:
        relay.frozen = False
    wait_for(lambda: router.store.online and not router._caught_up, timeout_s=20)  # told again once back
    router.optimize_task_execution(task)  # so it catches up at its next decision
    assert router.tool_statistics()[tool].calls == 1
    writer.close()
    router.close()
    relay.close()


@pytest.mark.parametrize("operation", ["attempts", "count", "summary", "prune", "get_snapshot", "put_snapshot"])
def test_a_read_or_a_long_operation_on_a_server_that_stops_answering_ends_naming_it(
    pg_url: str, postgres_server: LocalPostgres, operation: str
) -> None:
    # they waited forever: toolrouter stats, or a router's save(), hung until the server came back
    relay = Relay(postgres_server.port)
    store = open_store(_relayed(pg_url, postgres_server, relay, "&timeout_s=0.3&admin_timeout_s=1.5&retry_s=0.05"))
    store.append([record("a")])
    store.put_snapshot("learner", b"state", 1)
    uses = {
        "attempts": store.attempts, "count": store.count, "summary": store.summary, "prune": lambda: store.prune(1),
        "get_snapshot": lambda: store.get_snapshot("learner"), "put_snapshot": lambda: store.put_snapshot("learner", b"new", 2),
    }
    limit = "timeout_s=0.3" if operation == "attempts" else "admin_timeout_s=1.5"
    errors: list = []

    def use() -> None:
        try:
            uses[operation]()
        except StoreUnavailableError as exc:
            errors.append(exc)

    try:
        relay.frozen = True
        start = time.perf_counter()
        worker = threading.Thread(target=use, daemon=True)
        worker.start()
        worker.join(timeout=20)  # a hang detector
        elapsed = time.perf_counter() - start
        assert not worker.is_alive() and len(errors) == 1
        assert str(errors[0]).startswith(f"store {store.url!r}: {operation}: ") and limit in str(errors[0])
        assert elapsed < 5 and (operation == "attempts" or elapsed >= 1.5)  # a long one gets its own limit
    finally:
        relay.frozen = False
    wait_for(lambda: store.online, timeout_s=20)
    assert [r.tool_id for r in store.attempts()] == ["a"] and store.get_snapshot("learner") is not None
    store.close()
    relay.close()


def test_admin_timeout_s_is_checked_like_the_other_options(pg_url: str) -> None:
    with pytest.raises(StoreOpenError, match=r"admin_timeout_s='0': "):
        open_store(pg_url + "&admin_timeout_s=0")


def test_the_watchdog_calls_what_runs_past_its_deadline_and_nothing_disarmed_in_time() -> None:
    from toolrouter.store.postgres import _watchdog

    called: list[str] = []
    late = _watchdog.arm(0.05, lambda: called.append("late"))
    kept = _watchdog.arm(0.05, lambda: called.append("disarmed"))
    _watchdog.arm(0.01, lambda: called.append("first"))
    _watchdog.disarm(kept)
    wait_for(lambda: len(called) == 2, timeout_s=5)
    time.sleep(0.1)
    assert called == ["first", "late"]
    _watchdog.disarm(late)  # after it fired: nothing to do


def test_an_append_of_more_attempts_than_one_statement_takes_is_one_transaction(store: PostgresStore) -> None:
    # 20 parameters an attempt: past 3,276 attempts libpq refused the statement, which the store
    # took for an outage (store_unreachable, the append journaled and [] returned)
    from toolrouter.store import TraceClose

    records = [record(f"t{i}") for i in range(4000)] + [TraceClose("r", True)] + [record("last")]
    ids = store.append(records)
    assert store.online and len(ids) == len(records) and ids == sorted(ids) and len(set(ids)) == len(ids)
    assert ids[-1] - ids[0] == len(records) - 1  # one transaction: one id base, the places after it
    assert [r.id for r in store.log()] == ids and store.count() == 4001


def test_an_append_of_several_statements_that_fails_in_a_later_one_writes_none(store: PostgresStore, monkeypatch) -> None:
    import toolrouter.store.postgres as pg

    params = pg._row_params
    monkeypatch.setattr(pg, "_row_params", lambda seq, r: [b"x" if v == b"t" else v for v in params(seq, r)] if r.task_id == "bad" else params(seq, r))
    # the error names the store and the operation, the server's chained (its bare words named none)
    with pytest.raises(ValueError, match=rf"^store {re.escape(repr(store.url))}: append: .*invalid input syntax") as raised:
        store.append([record() for _ in range(4000)] + [record(task_id="bad")])
    assert isinstance(raised.value.__cause__, psycopg.errors.InvalidTextRepresentation)
    monkeypatch.undo()
    assert store.count() == 0 and store.online  # none of the first statement's rows, and the connections work
    assert len(store.append([record()] * 3)) == 3 and store.count() == 3


def test_a_journal_names_its_store_and_another_database_sharing_its_folder_leaves_it(
    postgres_server: LocalPostgres, pg_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    from psycopg.conninfo import conninfo_to_dict

    from toolrouter.store.journal import Journal
    from toolrouter.store.postgres import _journal_dir

    monkeypatch.setenv("TOOLROUTER_JOURNAL_DIR", str(tmp_path))
    other = f"{pg_database}_other"
    postgres_server.create_database(other)
    # one URL for both databases, libpq taking the database from PGDATABASE: one journal folder
    url = f"postgresql://router:{postgres_server.password}@127.0.0.1:{postgres_server.port}?timeout_s=1"
    folder = _journal_dir(None, conninfo_to_dict(url.partition("?")[0]))
    try:
        monkeypatch.setenv("PGDATABASE", other)
        with open_store(url) as s:
            block(postgres_server, other)
            assert s.append([record("o1")]) == []  # journaled
            (path,) = folder.glob("*.journal")
            with contextlib.closing(sqlite3.connect(path)) as conn:
                assert conn.execute("SELECT value FROM meta WHERE key = 'store_id'").fetchone() == (s.store_id,)
            other_id = s.store_id
        unblock(postgres_server, other)
        orphan = Journal.for_origin(folder, "dead-process", max_attempts=10, store_id=other_id)
        orphan.add([1], [record("o2")])
        orphan.close()  # its process died in an outage of the other database
        monkeypatch.setenv("PGDATABASE", pg_database)
        with open_store(url) as s:
            assert s.count() == 0  # the other database's attempts are not written here
        assert (folder / "dead-process.journal").exists()
        monkeypatch.setenv("PGDATABASE", other)
        with open_store(url) as s:
            assert sorted(r.tool_id for r in s.attempts()) == ["o1", "o2"]
    finally:
        unblock(postgres_server, other)
        postgres_server.drop_database(other)


def test_a_journal_left_under_another_spelling_of_the_server_is_adopted_if_it_names_this_store(
    postgres_server: LocalPostgres, pg_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # its router reached the server as "localhost"; none will again (the URL now says 127.0.0.1),
    # so its attempts waited in a folder no store of this database looked in
    from toolrouter.store.journal import Journal

    monkeypatch.setenv("TOOLROUTER_JOURNAL_DIR", str(tmp_path))
    with open_store(postgres_server.url(pg_database)) as s:
        mine = s.store_id
    folder = tmp_path / f"localhost_{postgres_server.port}_{pg_database}"
    for origin, store_id, tool in (("dead", mine, "o1"), ("unnamed", None, "o2"), ("foreign", "0" * 32, "o3")):
        orphan = Journal.for_origin(folder, origin, max_attempts=10, store_id=store_id)
        orphan.add([1], [record(tool)])
        orphan.close()
    with open_store(postgres_server.url(pg_database)) as s:
        assert [r.tool_id for r in s.attempts()] == ["o1"]  # the one naming this store; the others may be another's
    assert sorted(p.name for p in folder.glob("*.journal")) == ["foreign.journal", "unnamed.journal"]
