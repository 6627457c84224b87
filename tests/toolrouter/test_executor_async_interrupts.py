"""An async tool's KeyboardInterrupt or SystemExit, or a Ctrl-C, leaves the event loop at once
(asyncio re-raises them out of it): ``PlanExecutor.run`` ends the run there, its attempts
recorded, instead of leaving it on the thread's loop to resume, and raise again, at the thread's
next run."""

from __future__ import annotations

import asyncio
import os
import signal
import threading

import pytest

from toolrouter.executor import ExecutorConfig, PlanExecutor, PlanRun, RetryPolicy, RunStatus, StepStatus
from toolrouter.models import CANCELLED_BY_CALLER, TaskStep
from toolrouter.planner import Candidate, assign_tools, build_task_graph

FAST = ExecutorConfig(timeout_s=0.5, retry=RetryPolicy(max_retries=0), circuit_breaker=None)


def plan_of(tools: dict[str, str]):
    graph = build_task_graph([TaskStep(step_id=s, capability=s) for s in tools])
    return assign_tools(graph, {s: [Candidate(t, 0.9)] for s, t in tools.items()})


@pytest.mark.parametrize("interrupt", [KeyboardInterrupt, SystemExit])
def test_an_async_tools_interrupt_ends_its_run_before_the_next_one(interrupt: type[BaseException]) -> None:
    ended = []

    async def stop(request):
        raise interrupt

    async def slow(request):
        await asyncio.sleep(0.05)
        ended.append(request.step_id)
        return "done"

    record = PlanRun()
    with PlanExecutor({"stop": stop, "slow": slow}, FAST) as ex:
        with pytest.raises(interrupt):
            ex.run(plan_of({"a": "stop", "b": "slow"}), run=record)
        assert record.status is RunStatus.CANCELLED
        assert record.statuses() == {"a": StepStatus.CANCELLED, "b": StepStatus.CANCELLED}
        assert sorted((a.tool_id, a.error) for a in record.attempts) == [
            ("slow", CANCELLED_BY_CALLER), ("stop", CANCELLED_BY_CALLER)
        ]
        # the next run on this thread runs only its own steps, and raises nothing
        assert ex.run(plan_of({"c": "slow"})).outputs == {"c": "done"}
    assert ended == ["c"]


@pytest.mark.usefixtures("ctrl_c_raises")
def test_a_ctrl_c_while_a_sync_tool_runs_ends_the_run_with_its_try_recorded() -> None:
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals reach the main thread only")
    release = threading.Event()

    def slow(request):
        os.kill(os.getpid(), signal.SIGINT)  # as the terminal sends it: raised in the main thread's loop
        release.wait(5.0)
        return "late"

    record = PlanRun()
    with PlanExecutor({"slow": slow, "t": lambda request: "ok"}, FAST) as ex:
        try:
            with pytest.raises(KeyboardInterrupt):
                ex.run(plan_of({"a": "slow"}), run=record)
        finally:
            release.set()
        assert record.status is RunStatus.CANCELLED
        assert [(a.tool_id, a.error) for a in record.attempts] == [("slow", CANCELLED_BY_CALLER)]
        assert ex.run(plan_of({"b": "t"})).outputs == {"b": "ok"}
    # the next run did not resume the cut one (which then took the tool's late value as a success)
    assert [(a.tool_id, a.error) for a in record.attempts] == [("slow", CANCELLED_BY_CALLER)]
