"""A NUL in an attempt's error message or in a trace's request is kept as U+FFFD, as PostgreSQL
keeps it, by every store and by the router that learns the trace live: SQLite and memory kept the
NUL, so the same log read back as another text from one store than from another, and a router
replaying a PostgreSQL log learned the request as a text its writer never had."""

from __future__ import annotations

from toolrouter import ExecutionResult, TaskProfile, ToolMetaLearner, ToolProfile
from toolrouter.store import AttemptRecord, Store


def test_every_store_gives_back_the_error_and_request_the_record_holds(store: Store) -> None:
    record = AttemptRecord("t", "q", "s", None, "a", False, 0.0, 0.0, 0.0, 0.0, error="boom\x00here", request="find\x00this")
    assert (record.error, record.request) == ("boom\ufffdhere", "find\ufffdthis")
    store.append([record])
    (back,) = store.attempts()
    assert (back.error, back.request) == (record.error, record.request)


def test_the_router_learns_the_request_as_its_store_keeps_it() -> None:
    router = ToolMetaLearner([ToolProfile(tool_id="web", capabilities=["search"])], seed=0, store="memory://")
    task = TaskProfile(task_id="t", task_type="q", context="find\x00this")
    router.learn_from_execution(task, [ExecutionResult(tool_id="web", step="search", success=True)], trace_id="run")
    (kept,) = router.store.attempts()
    (trace,) = router.structures.state()[0]["open"]  # the trace as the router learned it live
    assert trace["request"] == kept.request == "find\ufffdthis"
    router.close()
