"""A tool that raises GeneratorExit interrupts the run as any BaseException of its own does: its
attempt is recorded, the other steps are cancelled and record theirs, then it is raised. It ended
the run at once, with the other steps left running on the event loop and the run's record unfinished."""

from __future__ import annotations

import asyncio

import pytest

from toolrouter.executor import ExecutorConfig, PlanExecutor, PlanRun, RetryPolicy, RunStatus, StepStatus
from toolrouter.models import CANCELLED_BY_CALLER, TaskStep
from toolrouter.planner import Candidate, assign_tools, build_task_graph


class _OwnHalt(BaseException):
    pass


@pytest.mark.parametrize("exc", [GeneratorExit("odd"), _OwnHalt("halt")])
def test_a_tools_generator_exit_cancels_the_other_steps_then_is_raised(exc) -> None:
    graph = build_task_graph([TaskStep(step_id="a", capability="c"), TaskStep(step_id="b", capability="c"),
                              TaskStep(step_id="after_b", capability="c", depends_on=["b"])])
    plan = assign_tools(graph, {"a": [Candidate("odd", 0.9)], "b": [Candidate("slow", 0.9)], "after_b": [Candidate("slow", 0.9)]})

    def odd(request):
        raise exc

    async def slow(request):
        await asyncio.sleep(30)

    run = PlanRun()
    with PlanExecutor({"odd": odd, "slow": slow}, ExecutorConfig(retry=RetryPolicy(max_retries=0), circuit_breaker=None)) as executor:
        with pytest.raises(type(exc)):
            executor.run(plan, run=run)

    # every step ended (the slow one cancelled, its attempt recorded) before the run raised
    assert run.status is RunStatus.CANCELLED
    assert run.statuses() == {"a": StepStatus.CANCELLED, "b": StepStatus.CANCELLED, "after_b": StepStatus.CANCELLED}
    assert [(a.tool_id, a.error) for a in run.attempts] == [("odd", f"{type(exc).__name__}: {exc}"), ("slow", CANCELLED_BY_CALLER)]
