"""A success whose reported numbers the router cannot learn (a cost so large that the utility
overflows) is recorded by the plan executor as the tool's failure, as the middleware records it:
the step falls back, the router learns the failure, and every try is recorded once."""

from __future__ import annotations

from toolrouter import TaskProfile, ToolMetaLearner, ToolProfile
from toolrouter.errors import InvalidOutcomeError
from toolrouter.executor import ExecutorConfig, PlanExecutor, RetryPolicy, ToolOutput
from toolrouter.models import ExecutionResult, TaskStep
from toolrouter.planner import Candidate, assign_tools, build_task_graph

CONFIG = ExecutorConfig(timeout_s=5.0, retry=RetryPolicy(max_retries=2, base_delay_s=0.0), circuit_breaker=None)


def test_a_success_the_runs_hook_rejects_is_recorded_once_as_a_failure_and_the_step_falls_back() -> None:
    graph = build_task_graph([TaskStep(step_id="search", capability="search")])
    plan = assign_tools(graph, {"search": [Candidate("pricey", 0.99, cost=0.5), Candidate("steady", 0.9, cost=0.2)]}, value=1e3)
    seen: list[ExecutionResult] = []
    learned: list[ExecutionResult] = []

    def learn(result: ExecutionResult) -> None:
        if result.cost > 1e9:
            raise InvalidOutcomeError(f"execution_results[0]: utility must be finite, got cost {result.cost!r}")
        learned.append(result)

    tools = {"pricey": lambda request: ToolOutput("page", cost=1e300), "steady": lambda request: "other page"}
    with PlanExecutor(tools, CONFIG, on_attempt=seen.append) as executor:
        run = executor.run(plan, "bees", on_attempt=learn)

    assert run.succeeded and run.outputs == {"search": "other page"}
    first, second = run.attempts
    assert (first.tool_id, first.success, first.cost) == ("pricey", False, 0.5)  # the planned cost, not retried
    assert first.error.startswith("InvalidOutcomeError: execution_results[0]: utility must be finite")
    assert (second.tool_id, second.success) == ("steady", True)
    assert seen == learned == run.attempts == run.steps["search"].attempts
    assert run.callback_errors == [] and run.total_cost == 0.5 + 0.2


def test_the_router_learns_a_tool_reporting_an_overflowing_cost_as_failing() -> None:
    router = ToolMetaLearner(
        [ToolProfile(tool_id="pricey", capabilities=["search"], cost_per_use=0.1, reliability=0.99),
         ToolProfile(tool_id="steady", capabilities=["search"], cost_per_use=0.1, reliability=0.3)],
        seed=0,
    )
    router.functions.update(pricey=lambda request: ToolOutput("page", cost=1e308), steady=lambda request: "page")
    task = TaskProfile(task_id="t", required_capabilities=["search"])

    execution = router.execute(task, "bees", config=CONFIG)

    assert execution.succeeded and execution.outputs == {"search": "page"}
    assert [(a.tool_id, a.success, a.cost) for a in execution.run.attempts] == [("pricey", False, 0.1), ("steady", True, 0.1)]
    assert execution.unlearned == [] and execution.run.callback_errors == []
    assert len(execution.utilities) == 2
    stats = router.tool_statistics()
    assert (stats["pricey"].calls, stats["pricey"].successes) == (1, 0)
    assert (stats["steady"].calls, stats["steady"].successes) == (1, 1)


def test_an_interrupt_while_the_runs_hook_learns_an_attempt_leaves_the_attempt_in_the_run() -> None:
    import asyncio

    import pytest

    from toolrouter.executor import PlanRun, RunStatus

    graph = build_task_graph([TaskStep(step_id="search", capability="search")])
    plan = assign_tools(graph, {"search": [Candidate("web", 0.9)]})

    def interrupted(result: ExecutionResult) -> None:
        raise KeyboardInterrupt

    run = PlanRun()
    with PlanExecutor({"web": lambda request: "page"}, CONFIG) as executor:
        with pytest.raises(KeyboardInterrupt):
            asyncio.run(executor.arun(plan, "bees", run=run, on_attempt=interrupted))
    assert [(a.tool_id, a.success) for a in run.attempts] == [("web", True)]
    assert run.steps["search"].attempts == run.attempts and run.status is RunStatus.CANCELLED


def test_a_failure_reporting_an_overflowing_cost_is_learned_with_the_planned_cost() -> None:
    from toolrouter.executor import ToolFailure

    router = ToolMetaLearner(
        [ToolProfile(tool_id="pricey", capabilities=["search"], cost_per_use=0.1, reliability=0.99),
         ToolProfile(tool_id="steady", capabilities=["search"], cost_per_use=0.1, reliability=0.3)],
        seed=0,
    )

    def pricey(request):
        raise ToolFailure("quota exceeded", cost=1e308)

    router.functions.update(pricey=pricey, steady=lambda request: "page")
    execution = router.execute(TaskProfile(task_id="t", required_capabilities=["search"]), "bees", config=CONFIG)

    first, second = execution.run.attempts
    assert (first.tool_id, first.success, first.cost) == ("pricey", False, 0.1)
    assert first.error.startswith("InvalidOutcomeError: ") and second.success
    assert execution.unlearned == [] and execution.run.callback_errors == []
    assert router.tool_statistics()["pricey"].calls == 1  # the middleware learns it so too
