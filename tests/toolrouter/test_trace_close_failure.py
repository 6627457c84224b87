"""A store that fails as ``execute`` closes the run's trace does not take the run from its caller:
the run succeeded and its attempts were recorded, yet the store's error was raised in its place
and the outputs were lost. It is now reported in ``run.callback_errors``, as an attempt's is."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from toolrouter import TaskProfile, ToolMetaLearner, ToolProfile
from toolrouter.executor import RunStatus
from toolrouter.store.base import TraceClose
from toolrouter.store.sqlite import SQLiteStore


class TraceCloseFails(SQLiteStore):
    def append(self, records):
        if any(isinstance(r, TraceClose) for r in records):
            raise sqlite3.OperationalError("disk I/O error")
        return super().append(records)


def test_a_failed_trace_close_is_reported_and_the_run_returned(tmp_path: Path) -> None:
    store = TraceCloseFails(tmp_path / "attempts.db")
    router = ToolMetaLearner([ToolProfile(tool_id="web", capabilities=["search"])], seed=0, store=store)
    router.functions["web"] = lambda request: "pages"
    execution = router.execute(TaskProfile(task_id="t", task_type="research"))
    assert execution.status is RunStatus.SUCCEEDED and execution.outputs == {"main": "pages"}
    assert execution.run.callback_errors == ["close_trace raised OperationalError: disk I/O error"]
    assert store.count() == 1 and router.tool_statistics()["web"].successes == 1
    router.close()
