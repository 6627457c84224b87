"""Another router's attempt of a tool that lands in the log between a router's catch-up before a
removal of the tool and the removal's append lies below the removal: a router opened on the store
learns it, then forgets it with the tool's attempts before the removal. The router that removed the
tool read it later, with the tool registered again (or serving the capability again), and counted it
after the removal, where no other router has it. So did it its own attempts, learned again after
another router's removal read late, below a removal of its own that an outage kept from catching up."""

from __future__ import annotations

import sqlite3

import pytest

from test_removal_read_after_own_attempts import learned, record

from toolrouter import ToolMetaLearner, ToolProfile
from toolrouter.store import SQLiteStore, StoreUnavailableError, ToolRemoval
from toolrouter.store.memory import MemoryStore

TOOLS = [ToolProfile(tool_id=t, capabilities=("search", "answer")) for t in ("a", "b")]


def meanwhile_store(kind: type, *args):  # type: ignore[no-untyped-def]
    class Store(kind):  # type: ignore[misc, valid-type]
        """Runs ``meanwhile``, once, before it appends a removal: another router's write that lands
        after the remover's catch-up."""

        meanwhile = None

        def append(self, records):  # type: ignore[no-untyped-def]
            if self.meanwhile is not None and any(isinstance(r, ToolRemoval) for r in records):
                meanwhile, self.meanwhile = self.meanwhile, None
                meanwhile()
            return super().append(records)

    return Store(*args)


@pytest.fixture(params=["memory", "sqlite"])
def store(request, tmp_path):  # type: ignore[no-untyped-def]
    made = meanwhile_store(MemoryStore) if request.param == "memory" else meanwhile_store(SQLiteStore, tmp_path / "r.db")
    yield made
    made.close()


@pytest.mark.parametrize("change", ["registered again", "capability given back"])
def test_an_attempt_appended_just_before_a_removal_is_forgotten_by_the_remover(store, change) -> None:  # type: ignore[no-untyped-def]
    remover = ToolMetaLearner(TOOLS, store=store, seed=0, sync_every=None)
    other = ToolMetaLearner(TOOLS, store=store, seed=0, sync_every=None)
    for capability in ("search", "answer"):
        record(other, "a", capability, True)
        record(other, "b", capability, True)
    if change == "registered again":
        remover.remove_tool("a")
        store.meanwhile = lambda: record(other, "a", "search", False)
        remover.add_tool(TOOLS[0])
    else:
        remover.update_tool(TOOLS[0].model_copy(update={"capabilities": ("answer",)}))
        store.meanwhile = lambda: record(other, "a", "search", False)
        remover.update_tool(TOOLS[0])
    record(remover, "a", "search", True)
    remover.sync()
    live = learned(remover)
    assert live[("search", "a")][:2] == (1, 1)  # its own attempt after the removal, not the late one below it
    assert learned(ToolMetaLearner(TOOLS, store=store, seed=0)) == live  # rebuilt from the log
    other.sync()
    assert learned(other) == live


def test_an_attempt_appended_while_the_removal_waits_for_a_locked_file_is_forgotten_by_the_remover(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "r.db"
    with SQLiteStore(path, timeout_s=0.01) as mine, SQLiteStore(path) as theirs:
        remover = ToolMetaLearner(TOOLS, store=mine, seed=0, sync_every=None)
        other = ToolMetaLearner(TOOLS, store=theirs, seed=0, sync_every=None)
        record(other, "a", "search", True)
        remover.remove_tool("a")
        lock = sqlite3.connect(path, isolation_level=None)
        lock.execute("BEGIN IMMEDIATE")  # another process writes: the removal waits in memory
        remover.add_tool(TOOLS[0])
        lock.execute("COMMIT")
        lock.close()
        record(other, "a", "search", False)  # lands below the removal, written with the next append
        remover.sync()
        record(remover, "a", "search", True)
        remover.sync()
        live = learned(remover)
        assert live[("search", "a")][:2] == (1, 1)
        assert [type(e).__name__ for e in mine.log()][-3:] == ["AttemptRecord", "ToolRemoval", "AttemptRecord"]
        assert learned(ToolMetaLearner(TOOLS, store=f"sqlite:///{path}", seed=0)) == live


class OutageStore(MemoryStore):
    """A server store's outage as ``Store.append`` has it: while ``down`` its reads raise
    ``StoreUnavailableError``, and what is appended waits, to be written first by the next append."""

    down = False

    def __init__(self) -> None:
        super().__init__()
        self.waiting: list = []

    def append(self, records):  # type: ignore[no-untyped-def]
        if self.down:
            self.waiting.extend(records)
            return []
        waiting, self.waiting = self.waiting, []
        if waiting:
            super().append(waiting)
        return super().append(records)

    def iter_log(self, after_id: int = 0, batch: int = 10_000):  # type: ignore[no-untyped-def]
        if self.down:
            raise StoreUnavailableError(f"store {self.url!r}: the server restarts")
        yield from super().iter_log(after_id, batch)


def test_own_attempts_learned_again_below_removals_made_in_an_outage_are_forgotten_by_them() -> None:
    store = OutageStore()
    remover = ToolMetaLearner(TOOLS, store=store, seed=0, sync_every=None)
    other = ToolMetaLearner(TOOLS, store=store, seed=0, sync_every=None)
    other.remove_tool("a")  # not read by the remover before its own attempt
    record(remover, "a", "search", True)
    store.down = True  # the removal and the registration that follow are made without a catch-up
    remover.remove_tool("a")
    remover.add_tool(TOOLS[0])
    store.down = False
    remover.sync()  # its attempt, after the other's removal, is learned again (the removals wait)
    record(remover, "b", "search", True)  # writes the removals, above the attempt
    remover.sync()
    assert [type(e).__name__ for e in store.log()] == ["ToolRemoval", "AttemptRecord", "ToolRemoval", "ToolRemoval", "AttemptRecord"]
    live = learned(remover)
    assert ("search", "a") not in live  # forgotten by its removal, as the log has it
    assert learned(ToolMetaLearner(TOOLS, store=store, seed=0)) == live
