"""An attempt its caller cancels is recorded but not learned: it says nothing of the tool. One the
tool ends itself (its own CancelledError), or that a plan's deadline cuts, is its failure, learned
as such."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from toolrouter import TaskProfile, ToolMetaLearner, ToolMiddleware, ToolProfile
from toolrouter.executor import ExecutorConfig, RetryPolicy, RunStatus, execute_task

CANCELLED = "CancelledError: run cancelled"  # toolrouter.models.CANCELLED_BY_CALLER


def test_a_call_its_caller_cancels_is_recorded_and_not_learned(tmp_path: Path) -> None:
    # it was learned as a failure of the tool (a call, no success, its latency's cost in utility)
    url = f"sqlite:///{tmp_path / 'router.db'}"
    mw = ToolMiddleware(store=url, seed=0)

    started = asyncio.Event()

    @mw.tool("slow")
    async def slow() -> str:
        started.set()
        await asyncio.sleep(10)
        return "late"

    async def cancelled_call() -> None:
        task = asyncio.create_task(mw.acall("slow"))
        await asyncio.wait_for(started.wait(), 5)  # cancelled while the tool runs, not before it starts
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(cancelled_call())
    (row,) = mw.learner.store.attempts()
    assert (row.tool_id, row.success, row.error) == ("slow", False, CANCELLED)
    assert mw.learner.tool_statistics()["slow"].calls == 0
    profiles = list(mw.learner.tools.values())
    mw.close()
    replayed = ToolMetaLearner(profiles, store=url)  # catching up from the store skips it too
    assert replayed.tool_statistics()["slow"].calls == 0
    replayed.close()


def test_a_cancelled_error_the_tool_raises_itself_is_its_learned_failure() -> None:
    mw = ToolMiddleware(seed=0)

    def gives_up() -> str:  # a sync tool, in a worker thread: its message must not pass for the caller's
        raise asyncio.CancelledError("run cancelled")

    mw.register(gives_up, "x", tool_id="gives_up", reliability=1.0)
    mw.register(lambda: "backup", "x", tool_id="backup", reliability=0.01)
    outcome = mw.route("x").run()
    assert outcome.value == "backup" and outcome.attempts[0].error == "CancelledError: the tool was cancelled"
    stats = mw.learner.tool_statistics()["gives_up"]
    assert (stats.calls, stats.successes) == (1, 0)


def test_a_try_a_plan_runs_past_its_deadline_is_a_learned_timeout_not_a_cancellation() -> None:
    async def hangs(request: object) -> str:
        await asyncio.sleep(10)
        return "late"

    router = ToolMetaLearner([ToolProfile(tool_id="hangs", capabilities=["search"])], seed=0)
    task = TaskProfile(task_id="t", required_capabilities=["search"])
    config = ExecutorConfig(timeout_s=30.0, retry=RetryPolicy(max_retries=0), circuit_breaker=None)
    run = execute_task(router, task, tools={"hangs": hangs}, config=config, deadline_s=0.05).run
    assert run.status is RunStatus.CANCELLED
    assert [a.error for a in run.attempts] == ["TimeoutError: 'hangs' took longer than the run's deadline allowed"]
    assert router.tool_statistics()["hangs"].calls == 1  # the deadline the caller set found the tool too slow
