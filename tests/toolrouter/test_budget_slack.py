"""A plan the planner finds within budget is within it for ``ExecutionPlan.within_budget`` and for
the executor's ``enforce_budget`` too: the three judged sums of float costs each their own way, and
a rounding error (0.1 + 0.2 > 0.3) made a feasible plan read as over budget, and a step skipped."""

from __future__ import annotations

from toolrouter.executor import ExecutorConfig, RetryPolicy, RunStatus
from toolrouter.learner import ToolMetaLearner
from toolrouter.models import TaskProfile, TaskStep, ToolProfile

STEPS = [TaskStep(step_id="search", capability="search"), TaskStep(step_id="write", capability="llm", depends_on=["search"])]


def router(search_cost: float, write_cost: float) -> ToolMetaLearner:
    learner = ToolMetaLearner([ToolProfile(tool_id="web", capabilities=["search"], cost_per_use=search_cost),
                               ToolProfile(tool_id="gpt", capabilities=["llm"], cost_per_use=write_cost)], seed=0)
    learner.functions.update(web=lambda request: "pages", gpt=lambda request: "answer")
    return learner


def test_a_plan_at_its_budget_is_within_it() -> None:
    learner = router(0.1, 0.2)
    plan = learner.optimize_task_execution(TaskProfile(task_id="t", steps=STEPS, max_cost=0.3))
    assert plan.expected_cost > 0.3  # 0.30000000000000004
    assert plan.metadata["planner"]["feasible"] and plan.within_budget


def test_the_executor_runs_every_step_of_a_plan_at_its_budget() -> None:
    learner = router(10000.1, 20000.2)  # the sum exceeds the budget by a rounding error of 4e-12
    task = TaskProfile(task_id="t", steps=STEPS, max_cost=30000.3)
    config = ExecutorConfig(enforce_budget=True, timeout_s=1.0, retry=RetryPolicy(max_retries=0))
    execution = learner.execute(task, config=config)
    assert execution.plan.metadata["planner"]["feasible"] and execution.plan.within_budget
    assert execution.status is RunStatus.SUCCEEDED
    assert all(not outcome.skipped_tools for outcome in execution.run.steps.values())
