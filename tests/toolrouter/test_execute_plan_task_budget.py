"""execute with a plan made earlier keeps the task's budget as well as the plan's."""

import pytest

from toolrouter import TaskProfile, ToolMetaLearner, ToolProfile
from toolrouter.executor import ExecutorConfig, PlanExecutor, StepStatus

BUDGET = ExecutorConfig(enforce_budget=True, circuit_breaker=None)


def router() -> ToolMetaLearner:
    r = ToolMetaLearner([ToolProfile(tool_id="dear", capabilities=["search"], cost_per_use=5.0)], seed=0)
    r.functions["dear"] = lambda request: "found"
    return r


def test_a_plan_made_without_budget_keeps_the_tasks():
    r = router()
    plan = r.optimize_task_execution(TaskProfile(task_id="free", required_capabilities=["search"]))
    task = TaskProfile(task_id="tight", required_capabilities=["search"], max_cost=1.0)
    run = r.execute(task, "bees", plan=plan, config=BUDGET)
    assert run.run.steps["search"].skipped_tools == [("dear", "over budget")]
    assert run.total_cost == 0


def test_the_tighter_of_plan_and_task():
    r = router()
    plan = r.optimize_task_execution(
        TaskProfile(task_id="tight", required_capabilities=["search"], max_cost=1.0), allow_infeasible=True
    )
    task = TaskProfile(task_id="loose", required_capabilities=["search"], max_cost=100.0)
    run = r.execute(task, "bees", plan=plan, config=BUDGET)
    assert run.run.steps["search"].skipped_tools == [("dear", "over budget")]


def test_run_budget_checked():
    r = router()
    plan = r.optimize_task_execution(TaskProfile(task_id="t", required_capabilities=["search"]))
    with PlanExecutor(dict(r.functions), BUDGET) as executor:
        with pytest.raises(ValueError, match="max_cost"):
            executor.run(plan, max_cost=-1.0)
        assert executor.run(plan, max_cost=10.0).statuses()["search"] is StepStatus.SUCCEEDED
