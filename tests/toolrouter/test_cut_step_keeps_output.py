"""A step whose tool ended with a value before the run's cancellation reached it ends succeeded,
with its output, while the run still ends cancelled (another step was cut)."""

from __future__ import annotations

import asyncio

from toolrouter.executor import ExecutorConfig, PlanExecutor, RetryPolicy, RunStatus, StepStatus
from toolrouter.models import CANCELLED_BY_CALLER, TaskStep
from toolrouter.planner import Candidate, assign_tools, build_task_graph

PLAN = assign_tools(
    build_task_graph([TaskStep(step_id="a", capability="a"), TaskStep(step_id="b", capability="b")]),
    {"a": [Candidate("fast", 0.9)], "b": [Candidate("other", 0.9)]},
)


def test_a_step_whose_tool_ended_before_the_runs_cancellation_keeps_its_output() -> None:
    async def main():
        cancel = asyncio.Event()

        async def fast(request):
            cancel.set()  # the run's watcher cancels the steps before this step hears of its tool
            return "page"

        async def other(request):
            await asyncio.Event().wait()

        with PlanExecutor({"fast": fast, "other": other}, ExecutorConfig(retry=RetryPolicy(max_retries=0))) as executor:
            return await executor.arun(PLAN, cancel_event=cancel)

    run = asyncio.run(main())
    assert [(a.tool_id, a.success, a.error) for a in run.attempts] == [
        ("fast", True, None), ("other", False, CANCELLED_BY_CALLER),
    ]
    a, b = run.steps["a"], run.steps["b"]
    assert (a.status, a.tool_id, a.output, a.error) == (StepStatus.SUCCEEDED, "fast", "page", None)
    assert b.status is StepStatus.CANCELLED
    assert run.outputs == {"a": "page"}
    assert run.status is RunStatus.CANCELLED
