"""A try cut by a run's deadline is a timeout of its tool: learned as a failure, and counted by
the tool's circuit breaker, as the middleware counts a try cut by a call's deadline."""

from __future__ import annotations

import asyncio

from toolrouter.executor import CircuitBreakerConfig, CircuitState, ExecutorConfig, PlanExecutor, RetryPolicy
from toolrouter.models import TaskStep
from toolrouter.planner import Candidate, assign_tools, build_task_graph


def test_a_tool_cut_by_every_runs_deadline_opens_its_circuit() -> None:
    plan = assign_tools(
        build_task_graph([TaskStep(step_id="search", capability="search")]),
        {"search": [Candidate("hangs", 0.99), Candidate("steady", 0.5)]},
        value=100.0,
    )

    async def hangs(request):
        await asyncio.Event().wait()  # never set: only the deadline ends it

    config = ExecutorConfig(
        timeout_s=30.0, retry=RetryPolicy(max_retries=0),
        circuit_breaker=CircuitBreakerConfig(failure_threshold=2, reset_timeout_s=60.0),
    )
    with PlanExecutor({"hangs": hangs, "steady": lambda request: "page"}, config) as executor:
        for _ in range(2):
            run = executor.run(plan, deadline_s=0.05)
            assert [a.error for a in run.attempts] == ["TimeoutError: 'hangs' took longer than the run's deadline allowed"]
        assert executor.breaker("hangs").state is CircuitState.OPEN
        run = executor.run(plan, deadline_s=5.0)

    assert run.succeeded and run.outputs == {"search": "page"}
    assert run.steps["search"].skipped_tools == [("hangs", "circuit open")]
