"""A store that notifies its routers of appends (PostgreSQL's) may call while a router reads its
log: an append that lands once the read has passed it is told to the router then, and its next
decision catches up again (the read's end took the router for caught up, and the attempt waited
for another writer's notification, or ``sync_every`` of its own)."""

from __future__ import annotations

import pytest

from toolrouter import ToolMetaLearner, ToolProfile
from toolrouter.store import AttemptRecord
from toolrouter.store.memory import MemoryStore

TOOLS = [ToolProfile(tool_id="web", capabilities=["search"])]


class NotifyingStore(MemoryStore):
    """A memory store that tells its subscribers of every append, as a server store does, runs
    ``after_read`` once a reader has read to the end of the log (a write landing just then), and
    raises ``refuse`` at the next read, once."""

    def __init__(self) -> None:
        super().__init__()
        self.callbacks: list = []
        self.after_read = None
        self.refuse: Exception | None = None

    def on_new_attempts(self, callback):
        self.callbacks.append(callback)
        return lambda: self.callbacks.remove(callback)

    def append(self, records):
        ids = super().append(records)
        for callback in self.callbacks:
            callback(ids[-1])
        return ids

    def iter_log(self, after_id: int = 0, batch: int = 10_000):
        error, self.refuse = self.refuse, None
        if error is not None:
            raise error
        yield from super().iter_log(after_id, batch)
        landing, self.after_read = self.after_read, None
        if landing is not None:
            landing()


def another_routers_failure() -> AttemptRecord:
    return AttemptRecord(
        task_id="t", task_type="default", step="search", capability="search", tool_id="web", success=False,
        quality=0.0, cost=0.0, latency_s=0.0, utility=-1.0, writer="another router",
    )


def test_an_append_told_while_the_router_reads_is_learned_at_its_next_decision() -> None:
    store = NotifyingStore()
    router = ToolMetaLearner(TOOLS, store=store, seed=0, sync_every=None)
    store.append([another_routers_failure()])
    store.after_read = lambda: store.append([another_routers_failure()])
    assert router.sync() == 1  # the read saw the first; the second landed as it ended
    router.rank_tool_ids("search")
    assert router.tool_statistics()["web"].calls == 2


def test_a_read_that_fails_leaves_the_next_decision_to_read_again() -> None:
    store = NotifyingStore()
    router = ToolMetaLearner(TOOLS, store=store, seed=0, sync_every=None)
    store.refuse = ConnectionResetError("the server went away")
    store.append([another_routers_failure()])  # told to the router
    with pytest.raises(ConnectionResetError):
        router.sync()
    router.rank_tool_ids("search")
    assert router.tool_statistics()["web"].calls == 1
