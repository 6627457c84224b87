"""A run is ``cancelled`` only when the cancellation cut something: an event set (here by the
run's own ``on_attempt``, at a failure) once every step had ended reported the run cancelled, a
run with a failed step and a succeeded one that nothing was cut from."""

from __future__ import annotations

import asyncio

from toolrouter import ExecutorConfig, RetryPolicy
from toolrouter.executor import PlanExecutor, RunStatus, StepStatus
from toolrouter.models import ExecutionResult, TaskStep
from toolrouter.planner import Candidate, assign_tools, build_task_graph


def _failing(request: object) -> None:
    raise RuntimeError("broken")


def test_a_cancel_event_set_as_the_last_step_ends_leaves_the_run_partial() -> None:
    graph = build_task_graph([TaskStep(step_id="a", capability="a"), TaskStep(step_id="b", capability="b", depends_on=["a"])])
    plan = assign_tools(graph, {"a": [Candidate("ok", 0.9)], "b": [Candidate("bad", 0.9)]})
    config = ExecutorConfig(timeout_s=5.0, retry=RetryPolicy(max_retries=0), circuit_breaker=None)

    async def main():
        event = asyncio.Event()

        def stop_at_a_failure(attempt: ExecutionResult) -> None:
            if not attempt.success:
                event.set()

        with PlanExecutor({"ok": lambda request: "fine", "bad": _failing}, config) as executor:
            return await executor.arun(plan, cancel_event=event, on_attempt=stop_at_a_failure)

    run = asyncio.run(main())
    assert run.statuses() == {"a": StepStatus.SUCCEEDED, "b": StepStatus.FAILED}
    assert run.status is RunStatus.PARTIAL
