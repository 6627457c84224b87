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


def test_a_try_let_through_closed_and_cut_by_the_deadline_leaves_a_half_open_circuit() -> None:
    """Counted as a probe, it reopened the circuit whose probe had yet to go: the tool skipped
    for another ``reset_timeout_s`` on no probe's verdict."""
    now = [0.0]
    plan = assign_tools(build_task_graph([TaskStep(step_id="s", capability="s")]), {"s": [Candidate("t", 0.9)]})

    async def hangs(request):
        breaker = executor.breaker("t")
        breaker.record_failure()  # other calls open its circuit while this one runs...
        now[0] = 10.0  # ...and its reset time passes: half-open, its probe yet to go
        await asyncio.Event().wait()

    config = ExecutorConfig(
        timeout_s=30.0, retry=RetryPolicy(max_retries=0),
        circuit_breaker=CircuitBreakerConfig(failure_threshold=1, reset_timeout_s=10.0),
    )
    with PlanExecutor({"t": hangs}, config, clock=lambda: now[0]) as executor:
        run = executor.run(plan, deadline_s=0.05)
        assert [a.error for a in run.attempts] == ["TimeoutError: 't' took longer than the run's deadline allowed"]
        assert executor.breaker("t").state is CircuitState.HALF_OPEN
