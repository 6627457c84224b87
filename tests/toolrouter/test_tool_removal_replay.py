"""A tool removed from a router and registered again starts from its prior; the removal is kept in
the store's log (``ToolRemoval``), so that a router reopened on the store, from its snapshot or from
the log alone, and another one syncing from it, forget its attempts before at the same place
(they replayed them: the reopened router counted calls the live one had forgotten)."""

from __future__ import annotations

import sqlite3

import pytest

from toolrouter.learner import ToolMetaLearner
from toolrouter.models import ExecutionResult, ToolProfile
from toolrouter.store import AttemptRecord, SQLiteStore, Store, ToolRemoval, TraceClose, open_store
from toolrouter.store.journal import record_from_json, record_to_json

TOOLS = [ToolProfile(tool_id=t, capabilities=("search",)) for t in ("a", "b")]


def record(router: ToolMetaLearner, tool_id: str, success: bool) -> None:
    router.record_attempt(ExecutionResult(tool_id=tool_id, success=success, quality=float(success)), capability="search")


def learned(router: ToolMetaLearner) -> dict[str, tuple]:
    return {t: (s.calls, s.successes, round(s.expected_utility, 9)) for t, s in router.tool_statistics().items()}


def test_a_tool_registered_again_starts_from_its_prior_live_reopened_and_synced(store: Store) -> None:
    router = ToolMetaLearner(TOOLS, store=store, seed=0)
    other = ToolMetaLearner(TOOLS, store=store, seed=0)  # shares the store from before the removal
    for _ in range(4):
        record(router, "a", False)
    record(router, "b", True)
    router.save()  # from before the removal: who resumes from it replays the removal after it
    router.remove_tool("a")
    router.add_tool(TOOLS[0])
    record(router, "a", True)
    live = learned(router)
    assert live["a"][:2] == (1, 1) and live["b"][:2] == (1, 1)

    assert learned(ToolMetaLearner(TOOLS, store=store)) == live  # resumed from the snapshot
    store.delete_snapshot("learner")
    assert learned(ToolMetaLearner(TOOLS, store=store, seed=0)) == live  # rebuilt from the log alone
    other.sync()
    assert learned(other) == live
    removals = [(e.tool_id, e.capabilities, e.writer) for e in store.log() if isinstance(e, ToolRemoval)]
    assert removals == [("a", None, router.writer)] * 2  # removed, registered again


def test_a_removal_takes_its_place_among_attempts_and_closes_appended_with_it(store: Store) -> None:
    attempt = AttemptRecord("t", "default", "search", "search", "a", True, 1.0, 0.0, 0.0, 1.0)
    ids = store.append([attempt, ToolRemoval("a", writer="w"), TraceClose("r", True), attempt])  # one transaction
    log = store.log()
    assert [e.id for e in log] == ids == sorted(ids)
    assert [type(e).__name__ for e in log] == ["AttemptRecord", "ToolRemoval", "TraceClose", "AttemptRecord"]
    assert (log[1].tool_id, log[1].writer) == ("a", "w") and store.count() == 2
    assert store.prune(ids[1]) == 1 and store.pruned_upto() == ids[1]  # a removal is pruned like a close
    assert [type(e).__name__ for e in store.log()] == ["TraceClose", "AttemptRecord"]


def test_the_outage_journal_keeps_a_tool_removal() -> None:
    removal = ToolRemoval("a", writer="w")
    assert record_from_json(record_to_json(removal)) == removal


def test_a_version_7_sqlite_store_is_migrated_and_keeps_removals(tmp_path) -> None:
    path = tmp_path / "old.db"
    with SQLiteStore(path):
        pass
    conn = sqlite3.connect(path)  # undo version 8: a store of version 7 kept no removals (nor conversations)
    conn.execute("DROP TABLE tool_removals")
    conn.execute("ALTER TABLE attempts DROP COLUMN conversation_id")
    conn.execute("UPDATE meta SET value = '7' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    with ToolMetaLearner(TOOLS, store=f"sqlite:///{path}", seed=0) as router:  # opening migrates it
        record(router, "a", False)
        router.remove_tool("a")
    with open_store(f"sqlite:///{path}") as s:
        assert [type(e).__name__ for e in s.log()] == ["AttemptRecord", "ToolRemoval"]


def test_a_version_9_postgresql_store_is_migrated_and_keeps_removals(pg_url, old_pg_store, pg_schema_version) -> None:  # type: ignore[no-untyped-def]
    old_pg_store(9)
    with ToolMetaLearner(TOOLS, store=pg_url, seed=0) as router:  # opening migrates it
        record(router, "a", False)
        router.remove_tool("a")
        router.add_tool(TOOLS[0])
        live = learned(router)
    assert pg_schema_version() == 14
    with ToolMetaLearner(TOOLS, store=pg_url) as reopened:
        assert learned(reopened) == live and live["a"][0] == 0


FETCHER = ToolProfile(tool_id="a", capabilities=("search", "fetch"))


def test_a_capability_taken_from_a_tool_and_given_back_starts_from_its_prior_live_reopened_and_synced(store: Store) -> None:
    tools = [FETCHER, TOOLS[1]]
    router = ToolMetaLearner(tools, store=store, policy="ucb1", seed=0)
    other = ToolMetaLearner(tools, store=store, policy="ucb1", seed=0)  # never told of the update
    for _ in range(3):
        record(router, "a", False)
    record(router, "b", True)
    router.update_tool(FETCHER.model_copy(update={"capabilities": ("fetch",)}))  # forgets a's search route
    router.update_tool(FETCHER)  # back there from its prior
    live = learned(router)
    assert live["a"][:2] == (0, 0) and live["b"][:2] == (1, 1)
    ranked = list(router.rank_tool_ids("search"))

    reopened = ToolMetaLearner(tools, store=store, policy="ucb1", seed=0)  # rebuilt from the log
    assert learned(reopened) == live and list(reopened.rank_tool_ids("search")) == ranked
    other.sync()
    assert learned(other) == live and list(other.rank_tool_ids("search")) == ranked
    removals = [(e.tool_id, e.capabilities, e.writer) for e in store.log() if isinstance(e, ToolRemoval)]
    assert removals == [("a", ("search",), router.writer)] * 2  # taken, given back


def test_a_removal_of_capabilities_is_checked_and_kept_by_the_journal() -> None:
    removal = ToolRemoval("a", writer="w", capabilities=["search"])
    assert removal.capabilities == ("search",) and record_from_json(record_to_json(removal)) == removal
    for bad, error in (("search", TypeError), ((), ValueError), ((1,), TypeError), (("a\x00",), ValueError)):
        with pytest.raises(error, match=r"capabilities"):
            ToolRemoval("a", capabilities=bad)


def test_a_version_8_sqlite_store_is_migrated_its_removals_read_as_the_whole_tools(tmp_path) -> None:
    path = tmp_path / "old.db"
    with SQLiteStore(path) as s:
        s.append([ToolRemoval("b", writer="w")])
    conn = sqlite3.connect(path)  # undo version 9: a store of version 8 kept no capabilities (nor conversations)
    conn.execute("ALTER TABLE tool_removals DROP COLUMN capabilities")
    conn.execute("ALTER TABLE attempts DROP COLUMN conversation_id")
    conn.execute("UPDATE meta SET value = '8' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    with ToolMetaLearner([FETCHER], store=f"sqlite:///{path}", seed=0) as router:  # opening migrates it
        router.update_tool(FETCHER.model_copy(update={"capabilities": ("fetch",)}))
    with open_store(f"sqlite:///{path}") as s:
        assert [(e.tool_id, e.capabilities) for e in s.log()] == [("b", None), ("a", ("search",))]
    assert sqlite3.connect(path).execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == "10"


def test_a_version_10_postgresql_store_is_migrated_its_removals_read_as_the_whole_tools(pg_url, old_pg_store, pg_schema_version) -> None:  # type: ignore[no-untyped-def]
    old_pg_store(
        10,
        "INSERT INTO toolrouter.tool_removals (id, origin, origin_seq, writer, tool_id, timestamp) "
        "VALUES (1, 'o', 0, 'w', 'b', now())",
    )
    with ToolMetaLearner([FETCHER], store=pg_url, seed=0) as router:  # opening migrates it
        router.update_tool(FETCHER.model_copy(update={"capabilities": ("fetch",)}))
        assert [(e.tool_id, e.capabilities) for e in router.store.log()] == [("b", None), ("a", ("search",))]
    assert pg_schema_version() == 14


def test_the_router_that_removed_a_tool_forgets_the_attempts_before_the_removal_it_had_not_read(store: Store) -> None:
    tools = [FETCHER, TOOLS[1]]
    router = ToolMetaLearner(tools, store=store, seed=0)
    other = ToolMetaLearner(tools, store=store, seed=0)
    for _ in range(3):  # before the removals in the log, not yet read by the router that makes them
        record(other, "a", False)
        other.record_attempt(ExecutionResult(tool_id="a", success=False), capability="fetch")
    record(other, "b", False)
    router.update_tool(FETCHER.model_copy(update={"capabilities": ("fetch",)}))
    router.update_tool(FETCHER)
    router.remove_tool("b")
    router.add_tool(TOOLS[1])
    record(router, "b", True)
    router.sync()  # other's attempts come before the removals: forgotten, as by every router reading the log
    live = learned(router)
    assert live["a"][:2] == (3, 0) and live["b"][:2] == (1, 1)  # a's on fetch only
    assert learned(ToolMetaLearner(tools, store=store, seed=0)) == live
    other.sync()
    assert learned(other) == live


def test_attempts_appended_between_the_catch_up_and_the_removal_are_forgotten_too(store: Store, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    router = ToolMetaLearner(TOOLS, store=store, seed=0)
    other = ToolMetaLearner(TOOLS, store=store, seed=0)
    append = store.append

    def another_writer_first(records):  # type: ignore[no-untyped-def]
        if isinstance(records[0], ToolRemoval):  # lands below the removal, after the router read the log
            record(other, "a", False)
        return append(records)

    record(router, "b", True)
    monkeypatch.setattr(store, "append", another_writer_first)
    router.remove_tool("a")
    monkeypatch.undo()
    router.add_tool(TOOLS[0])
    router.sync()
    live = learned(router)
    assert live["a"][0] == 0
    assert learned(ToolMetaLearner(TOOLS, store=store, seed=0)) == live


def test_a_capability_given_to_a_tool_starts_it_there_from_its_prior_in_every_router(store: Store) -> None:
    tools = [FETCHER, TOOLS[1]]
    router = ToolMetaLearner(tools, store=store, seed=0)
    other = ToolMetaLearner(tools, store=store, seed=0)  # its profile serves "search" throughout
    record(router, "b", True)
    router.update_tool(FETCHER.model_copy(update={"capabilities": ("fetch",)}))
    record(router, "a", False)  # a call started before the update ends: a no longer serves "search" here
    record(other, "a", False)
    router.update_tool(FETCHER)  # back on "search" from its prior, whatever was recorded meanwhile
    router.sync()
    live = learned(router)
    assert live["a"][:2] == (0, 0) and live["b"][:2] == (1, 1)
    assert learned(ToolMetaLearner(tools, store=store, seed=0)) == live
    other.sync()
    assert learned(other) == live
    assert [e.capabilities for e in store.log() if isinstance(e, ToolRemoval)] == [("search",), ("search",)]


def test_a_tool_registered_again_forgets_what_was_recorded_while_it_was_removed_in_every_router(store: Store) -> None:
    router = ToolMetaLearner(TOOLS, store=store, seed=0)
    other = ToolMetaLearner(TOOLS, store=store, seed=0)  # keeps the tool registered throughout
    record(router, "b", True)
    router.remove_tool("a")
    record(router, "a", False)  # a call started before the removal ends
    record(other, "a", False)
    router.add_tool(TOOLS[0])  # from its prior, whatever was recorded meanwhile
    router.sync()
    live = learned(router)
    assert live["a"][:2] == (0, 0) and live["b"][:2] == (1, 1)
    assert learned(ToolMetaLearner(TOOLS, store=store, seed=0)) == live
    other.sync()
    assert learned(other) == live
