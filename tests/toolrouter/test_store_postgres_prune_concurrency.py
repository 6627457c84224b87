"""Prunes against what runs beside them, on real connections. A journal's replay checked the pruned
keys, then wrote: a prune deleting the checked row in between (its key not yet kept when checked,
its row gone when written) let the record be appended again. And two prunes at once, locking the
same rows in different orders (an index scan in id order, a sequential one in the table's order,
which ids from transactions committing in any order do not follow), deadlocked: the server aborted
one, and its caller saw the store unavailable. Prune and the replay's check and write now share a
lock: prunes run one at a time, and a replay waits for a running prune."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import psycopg
from test_store import record

from toolrouter.bench._postgres_server import LocalPostgres
from toolrouter.store import open_store
from toolrouter.store.journal import Journal


def waiting(url: str, n: int, what: str) -> None:
    """Return once ``n`` sessions of the database at ``url`` wait for a lock (fail after 10 s)."""
    with psycopg.connect(url, autocommit=True) as conn:  # a transaction would see one view of the activity
        for _ in range(1000):
            waits = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            ).fetchone()[0]
            if waits >= n:
                return
            time.sleep(0.01)
    raise AssertionError(f"{what}: no session waits for a lock")


def started(fn: Callable[[], object]) -> tuple[threading.Thread, list[object]]:
    """``fn`` running in a thread, and the list its result or exception goes to."""
    out: list[object] = []

    def run() -> None:
        try:
            out.append(fn())
        except Exception as exc:
            out.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, out


def test_a_replay_waits_for_a_prune_deleting_its_record(postgres_server: LocalPostgres, pg_database: str, pg_url: str) -> None:
    pg_url += "&timeout_s=30"  # the waits below are the test's, not outages
    # gone is left open till the end: a router that died does not close
    with open_store(pg_url) as pruner, open_store(pg_url) as gone, psycopg.connect(postgres_server.url(pg_database)) as holder:
        ids = gone.append([record("x")])  # (origin, 1) written, its answer lost: journaled too
        origin, folder, store_id = gone.origin, gone._journal_dir, gone.store_id
        journal = Journal.for_origin(folder, origin, 100, store_id)
        journal.add([1], [record("x")])
        journal.close()  # the router died: the next store opened on this host adopts its journal
        # the prune's mark waits for this uncommitted one, its row deleted by then
        holder.execute("INSERT INTO toolrouter.meta VALUES ('pruned_upto', '0')")
        prune, pruned = started(lambda: pruner.prune(ids[0]))
        waiting(postgres_server.url(pg_database), 1, "the prune")
        opening, opened = started(lambda: open_store(pg_url))  # which adopts and writes the journal
        waiting(postgres_server.url(pg_database), 2, "the journal's write")  # for the prune's row, or for the prune
        holder.rollback()
        prune.join(10)
        opening.join(10)
        assert pruned == [1]
        adopter = opened[0]
        try:
            assert adopter.count() == 0  # pruned, not appended again
            assert not list(folder.glob("*.journal"))
        finally:
            adopter.close()


def scanning(url: str, *off: str) -> str:
    """``url`` whose sessions plan without the scans ``off`` (``seqscan``, ``indexscan``, ...), and
    without compiling (the cost of a scan turned off would have each statement compiled)."""
    return url + "&options=-c%20jit%3Doff%20" + "%20".join(f"-c%20enable_{scan}%3Doff" for scan in off)


def test_two_prunes_at_once_both_end(postgres_server: LocalPostgres, pg_database: str, pg_url: str) -> None:
    pg_url += "&timeout_s=30"
    by_id = scanning(pg_url, "seqscan", "bitmapscan")  # locks the rows in id order
    by_place = scanning(pg_url, "indexscan", "bitmapscan")  # in the table's order
    with open_store(by_id) as a, open_store(by_place) as b, psycopg.connect(postgres_server.url(pg_database)) as holder:
        first, second = a.append([record("x")]) + a.append([record("y")])
        # the first row's new version goes after the second's: the table's order is not the ids'
        holder.execute(f"UPDATE toolrouter.attempts SET writer = writer WHERE id = {first}")
        holder.commit()
        holder.execute(f"SELECT 1 FROM toolrouter.attempts WHERE id = {second} FOR UPDATE")
        one, ones = started(lambda: b.prune(second))  # waits at the second row
        waiting(postgres_server.url(pg_database), 1, "the prune in the table's order")
        other, others = started(lambda: a.prune(second))  # deletes the first, waits at the second
        waiting(postgres_server.url(pg_database), 2, "the prune in id order")
        holder.rollback()
        one.join(20)
        other.join(20)
        assert {*ones, *others} == {0, 2}  # each ended, the rows deleted once
        assert a.count() == 0
