"""An append that fails while its store closes (another thread's ``close``) leaves its attempt in a
journal that the next store opened on the host writes, in this process too: the journal was kept
open, and locked, by the closed store until the process ended."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest

from toolrouter.store import AttemptRecord, open_store

pytest.importorskip("psycopg")


def record() -> AttemptRecord:
    return AttemptRecord(task_id="t", task_type="t", step="s", capability=None, tool_id="a", success=True,
                         quality=1.0, cost=0.0, latency_s=0.0, utility=1.0)


def test_an_append_that_fails_as_the_store_closes_is_left_for_the_next_store(postgres_server, pg_database: str, pg_url: str) -> None:
    store = open_store(f"{pg_url}&timeout_s=0.3")
    blocker = psycopg.connect(postgres_server.url(pg_database))  # holds the table past the append's lock timeout
    blocker.execute("LOCK TABLE toolrouter.attempts IN ACCESS EXCLUSIVE MODE")
    results: list[list[int]] = []
    appending = threading.Thread(target=lambda: results.append(store.append([record()])))
    appending.start()
    with psycopg.connect(postgres_server.url(pg_database), autocommit=True) as watcher:
        while not watcher.execute("SELECT count(*) FROM pg_locks WHERE NOT granted").fetchone()[0]:
            time.sleep(0.005)  # the append waits for the lock
    store.close()
    appending.join()
    blocker.rollback()
    blocker.close()
    assert results == [[]] and store.pending == 1  # journaled: its write failed
    with open_store(pg_url) as other:  # adopts the journal the closed store left
        assert other.count() == 1 and other.pending == 0
