"""An SQLite store used in a process forked while a thread of its parent was inside one of its
operations (an append waiting for another process's write lock) is refused with the ValueError
the docs promise: the child had been copied with the store's lock held, and waited for it for ever."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from test_fork_worker_threads import in_child

from toolrouter.store import AttemptRecord, SQLiteStore

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


def test_a_child_forked_during_an_operation_is_refused_not_hung(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "r.db", timeout_s=10)
    other = sqlite3.connect(tmp_path / "r.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock: the append below waits for it
    writer = threading.Thread(target=store.append, args=([AttemptRecord("t", "q", "s", None, "a", True, 1.0, 0.0, 0.0, 1.0)],))
    writer.start()
    while not store._lock.locked():  # the append is inside the store
        time.sleep(0.001)

    def uses() -> str:
        outcome = []
        for use in (store.count, store.flush, lambda: store.pending, lambda: store.append([AttemptRecord("u", "q", "s", None, "a", True, 1.0, 0.0, 0.0, 1.0)])):
            try:
                use()
            except ValueError as exc:
                outcome.append("after a fork" in str(exc))
        return str(outcome)

    try:
        assert in_child(uses, wait_s=2.0) == "[True, True, True, True]"
    finally:
        other.execute("ROLLBACK")
        writer.join()
        other.close()
    assert store.count() == 1
    store.close()
