"""A memory store used in a process forked while a thread of its parent held its lock is refused
with the ValueError the other stores give, not hung: the child was copied with the lock held."""

from __future__ import annotations

import os

import pytest
from test_fork_worker_threads import in_child

from toolrouter.store import AttemptRecord, MemoryStore

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


def test_a_child_forked_while_the_lock_is_held_is_refused_not_hung() -> None:
    store = MemoryStore()

    def uses() -> str:
        outcome = []
        for use in (store.count, lambda: store.append([AttemptRecord("u", "q", "s", None, "a", True, 1.0, 0.0, 0.0, 1.0)])):
            try:
                use()
            except ValueError as exc:
                outcome.append("after a fork" in str(exc))
        store.close()  # the copy's close neither waits for the lock nor raises
        return str(outcome)

    with store._lock:  # a thread of the parent inside an operation
        assert in_child(uses, wait_s=1.0) == "[True, True]"
    assert store.count() == 0  # the parent's store is untouched
    store.close()
