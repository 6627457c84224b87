"""``pending`` after ``close`` is how many records the store left in its journal. An append that
fails after ``close`` left a journal (another thread's, its write in flight as the store closed)
opens that journal again, which holds what close left too, and its whole size was added to the
count close had taken: those records were counted twice."""

from __future__ import annotations

import threading
import time

import psycopg
from test_store import record
from test_store_postgres import refuse_inserts

from toolrouter.bench._postgres_server import LocalPostgres
from toolrouter.store import TraceClose, open_store


def test_pending_after_close_counts_what_the_journal_holds_once(
    postgres_server: LocalPostgres, pg_database: str, pg_url: str
) -> None:
    store = open_store(f"{pg_url}&timeout_s=30")
    refuse_inserts(postgres_server, pg_database, "not now", table="trace_closes")
    blocker = psycopg.connect(postgres_server.url(pg_database))  # holds back the attempts' inserts, not reads
    blocker.execute("LOCK TABLE toolrouter.attempts IN EXCLUSIVE MODE")
    appending = threading.Thread(target=store.append, args=([record("a")],))
    appending.start()
    with psycopg.connect(postgres_server.url(pg_database), autocommit=True) as watcher:
        waiting = (
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' "
            "AND query LIKE '%INSERT%'"
        )
        while not (pids := watcher.execute(waiting).fetchall()):
            time.sleep(0.005)  # the append waits for the table
        assert store.append([TraceClose("t1", True)]) == []  # refused: journaled
        store.close()
        assert store.pending == 1  # left for the next store
        watcher.execute("SELECT pg_terminate_backend(%s)", pids[0])  # the append in flight fails: journaled too
    appending.join()
    blocker.rollback()
    blocker.close()
    assert store.pending == 2
    postgres_server.sql("DROP TRIGGER refuse ON toolrouter.trace_closes", pg_database)
    with open_store(pg_url) as other:  # adopts the journal the closed store left, in the order of their keys
        assert [type(e).__name__ for e in other.log()] == ["AttemptRecord", "TraceClose"] and other.pending == 0
