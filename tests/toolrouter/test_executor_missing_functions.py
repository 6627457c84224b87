"""A step's tool that has no function to call is reported as what it is: a tool the router knows
but was given no function for, or one the executor's tools do not hold. Both were reported as
"no longer registered", which sent the reader looking for who removed a tool nobody removed."""

from __future__ import annotations

from toolrouter import TaskProfile, ToolMetaLearner, ToolProfile
from toolrouter.executor import ExecutorConfig, PlanExecutor, RetryPolicy
from toolrouter.plan import ExecutionPlan, PlanStep, ToolChoice

FAST = ExecutorConfig(timeout_s=1.0, retry=RetryPolicy(max_retries=0), circuit_breaker=None)


def plan_of(*tool_ids: str) -> ExecutionPlan:
    choices = tuple(ToolChoice(t, 0.5, 0.5, 0.9, 0.1, 0.1) for t in tool_ids)
    return ExecutionPlan.from_steps("t", "qa", [PlanStep("search", "search", choices)])


def test_a_registered_tool_without_a_function_is_reported_as_such() -> None:
    router = ToolMetaLearner(
        [ToolProfile(tool_id="web", capabilities=["search"]), ToolProfile(tool_id="web2", capabilities=["search"])],
        seed=0, store="memory://",
    )
    router.functions["web2"] = lambda request: "pages"
    task = TaskProfile(task_id="t", task_type="qa", required_capabilities=["search"])

    execution = router.execute(task, "bees", plan=plan_of("web", "web2"), config=FAST)

    assert execution.succeeded and execution.outputs == {"search": "pages"}
    missing = execution.run.attempts[0]
    assert (missing.tool_id, missing.success, missing.cost) == ("web", False, 0.0)
    assert missing.error == "UnknownToolError: tool 'web' is registered but has no function in learner.functions"
    assert execution.unlearned == [missing]  # no call was made: not the tool's failure


def test_a_tool_the_executor_was_not_given_is_reported_as_such() -> None:
    with PlanExecutor({"web2": lambda request: "pages"}, FAST) as executor:
        run = executor.run(plan_of("web", "web2"))
    assert run.succeeded
    assert run.attempts[0].error == "UnknownToolError: tool 'web' is not among the executor's tools"
