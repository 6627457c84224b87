"""A cancellation, an interruption or a run's deadline that reaches a try once its tool has ended
(before the caller had its turn) cuts nothing: the try is recorded as it ended (a success, or the
tool's own error), once, and the cancellation is still raised to the caller."""

from __future__ import annotations

import _thread
import asyncio
import threading
import time

import pytest

from toolrouter import ExecutorConfig, ToolMiddleware
from toolrouter.executor import PlanExecutor, RetryPolicy, RunStatus
from toolrouter.models import CANCELLED_BY_CALLER, TaskStep
from toolrouter.planner import Candidate, assign_tools, build_task_graph

PLAN = assign_tools(
    build_task_graph([TaskStep(step_id="a", capability="a"), TaskStep(step_id="b", capability="b")]),
    {"a": [Candidate("fast", 0.9)], "b": [Candidate("other", 0.9)]},
)
CONFIG = ExecutorConfig(retry=RetryPolicy(max_retries=0))


def _attempts(run) -> list[tuple[str, bool, str | None]]:
    return [(a.tool_id, a.success, a.error) for a in run.attempts]


@pytest.mark.parametrize("fails", [False, True])
def test_a_tool_that_ended_before_its_runs_cancellation_keeps_its_outcome(fails: bool) -> None:
    async def main():
        cancel = asyncio.Event()

        async def fast(request):
            cancel.set()  # the run's watcher cancels the steps before this step hears of its tool
            if fails:
                raise ConnectionError("down")
            return "page"

        async def other(request):
            await asyncio.Event().wait()

        with PlanExecutor({"fast": fast, "other": other}, CONFIG) as executor:
            run = await executor.arun(PLAN, cancel_event=cancel)
            return run, executor.breaker("fast").consecutive_failures

    run, failures = asyncio.run(main())
    assert run.status is RunStatus.CANCELLED
    fast = ("fast", False, "ConnectionError: down") if fails else ("fast", True, None)
    assert _attempts(run) == [fast, ("other", False, CANCELLED_BY_CALLER)]
    assert failures == fails  # the tool's own error, not a cancellation


def test_a_tool_that_ended_before_the_runs_deadline_is_no_timeout() -> None:
    async def fast(request):
        return "page"

    def blocks_the_loop(request):  # past the deadline, as an async tool with a sync sleep would
        while time.monotonic() < start + 0.1:
            time.sleep(0.005)
        return "late"

    async def other(request):
        return blocks_the_loop(request)

    with PlanExecutor({"fast": fast, "other": other}, CONFIG) as executor:
        start = time.monotonic()
        run = executor.run(PLAN, deadline_s=0.05)
        assert _attempts(run) == [
            ("fast", True, None),
            ("other", False, "TimeoutError: 'other' took longer than the run's deadline allowed"),
        ]
        assert executor.breaker("fast").consecutive_failures == 0
        assert executor.breaker("other").consecutive_failures == 1


def test_a_routed_call_cancelled_once_its_tool_ended_records_the_success_and_raises() -> None:
    mw = ToolMiddleware(store="memory://", seed=0)
    callers: list[asyncio.Future] = []

    @mw.tool("x")
    async def fast() -> str:
        asyncio.get_running_loop().call_soon(callers[0].cancel)  # runs after the tool's task has ended
        return "page"

    async def main() -> None:
        callers.append(asyncio.ensure_future(mw.acall("x")))
        with pytest.raises(asyncio.CancelledError):
            await callers[0]

    asyncio.run(main())
    assert [(a.tool_id, a.success, a.error) for a in mw.learner.store.attempts()] == [("fast", True, None)]
    assert mw.learner.tool_statistics()["fast"].successes == 1
    mw.close()


@pytest.mark.usefixtures("ctrl_c_raises")
def test_a_ctrl_c_once_a_worker_threads_tool_ended_records_the_success_and_raises() -> None:
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals reach the main thread only")
    mw = ToolMiddleware(store="memory://", seed=0, config=ExecutorConfig(timeout_s=5.0))

    def fast() -> str:
        _thread.interrupt_main()  # handled by the calling thread once it wakes: after the tool ended
        return "page"

    mw.register(fast, "x", tool_id="fast")
    with pytest.raises(KeyboardInterrupt):
        mw.call("x")
    assert [(a.tool_id, a.success, a.error) for a in mw.learner.store.attempts()] == [("fast", True, None)]
    mw.close()
