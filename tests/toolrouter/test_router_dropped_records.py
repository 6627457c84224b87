"""Own records that the store dropped (its in-memory queue full) are counted as unwritten only
until the store has none left to write: the router counted them for ever, so every save synced
again and the tools it learned late were never let go."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from toolrouter import ExecutionResult, TaskProfile, ToolMetaLearner, ToolProfile
from toolrouter.store import AttemptRecord, SQLiteStore

TOOLS = [ToolProfile(tool_id="web", capabilities=["search"])]


def report(router: ToolMetaLearner, task_id: str) -> None:
    task = TaskProfile(task_id=task_id, task_type="t", steps=[{"step_id": "s", "capability": "search"}])
    router.learn_from_execution(task, [ExecutionResult(tool_id="web", step="s", capability="search", success=True)])


def test_dropped_records_are_not_counted_as_unwritten(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "r.db", timeout_s=0.01, max_pending=1)
    router = ToolMetaLearner(TOOLS, store=store, seed=0)
    other = sqlite3.connect(tmp_path / "r.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    report(router, "a")
    report(router, "b")
    assert (store.pending, store.dropped) == (1, 1)
    other.execute("ROLLBACK")
    other.close()
    store.append([AttemptRecord("c", "t", "s", "search", "web", True, 1.0, 0.0, 0.0, 1.0, writer="another")])
    router.save()  # reads back the one kept, and learns the other writer's
    assert store.count() == 2 and router.tool_statistics()["web"].calls == 3
    assert router._journaled == 0 and router._late == {}
    router.close()
    store.close()
