"""A tool a step lists but the executor has no function for is never called, so it takes no place
among the tools a step may try (``use_fallbacks=False``, ``max_fallbacks``), as the middleware,
which tries only the tools it has functions for, leaves it none. ``execute`` plans over every
tool the router knows: one without a function that came first took the only place, and the step
failed with a tool that could have served it never tried."""

from __future__ import annotations

import pytest

from toolrouter import TaskProfile, ToolMetaLearner, ToolProfile
from toolrouter.executor import ExecutorConfig, PlanExecutor, RetryPolicy
from toolrouter.plan import ExecutionPlan, PlanStep, ToolChoice

CONFIGS = [
    ExecutorConfig(use_fallbacks=False, circuit_breaker=None, retry=RetryPolicy(max_retries=0)),
    ExecutorConfig(max_fallbacks=0, circuit_breaker=None, retry=RetryPolicy(max_retries=0)),
]


def plan_of(*tool_ids: str) -> ExecutionPlan:
    choices = tuple(ToolChoice(t, 0.5, 0.5, 0.9, 0.1, 0.1) for t in tool_ids)
    return ExecutionPlan.from_steps("t", "qa", [PlanStep("search", "search", choices)])


@pytest.mark.parametrize("config", CONFIGS)
def test_execute_tries_the_tool_it_can_call_after_one_without_a_function(config) -> None:
    router = ToolMetaLearner(
        [ToolProfile(tool_id="web", capabilities=["search"]), ToolProfile(tool_id="web2", capabilities=["search"])],
        seed=0,
    )
    router.functions["web2"] = lambda request: "pages"
    task = TaskProfile(task_id="t", task_type="qa", required_capabilities=["search"])

    execution = router.execute(task, "bees", plan=plan_of("web", "web2"), config=config)

    assert execution.succeeded and execution.outputs == {"search": "pages"}
    assert [(a.tool_id, a.success) for a in execution.run.attempts] == [("web", False), ("web2", True)]
    assert execution.unlearned == execution.run.attempts[:1]  # nothing was called: not learned


@pytest.mark.parametrize("config", CONFIGS)
def test_a_tool_called_and_failed_still_takes_its_place(config) -> None:
    def broken(request):
        raise RuntimeError("down")

    with PlanExecutor({"web2": broken, "web3": lambda request: "pages"}, config) as executor:
        run = executor.run(plan_of("web", "web2", "web3"))
    assert not run.succeeded and [a.tool_id for a in run.attempts] == ["web", "web2"]
    assert run.steps["search"].skipped_tools == [("web3", "max attempts reached")]
