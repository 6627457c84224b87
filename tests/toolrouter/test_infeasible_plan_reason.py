"""A plan asked for with ``allow_infeasible=True`` under a budget no plan meets says why, as the
error it stands in for does."""

from __future__ import annotations

import pytest

from toolrouter import TaskProfile, ToolMetaLearner, ToolProfile
from toolrouter.errors import BudgetInfeasibleError


def test_a_best_effort_plan_over_budget_carries_the_reason_no_plan_fits() -> None:
    router = ToolMetaLearner(
        [ToolProfile(tool_id="web", capabilities=["search"], cost_per_use=1.0, expected_latency_s=2.0),
         ToolProfile(tool_id="gpt", capabilities=["llm"], cost_per_use=1.0, expected_latency_s=2.0)],
        seed=0,
    )
    task = TaskProfile(task_id="t", required_capabilities=["search", "llm"], max_cost=1.5)
    with pytest.raises(BudgetInfeasibleError) as refused:
        router.optimize_task_execution(task)

    plan = router.optimize_task_execution(task, allow_infeasible=True)

    planner = plan.metadata["planner"]
    assert planner["feasible"] is False and not plan.within_budget
    assert planner["infeasible_reason"] == str(refused.value)
    assert "cheapest plan costs 2" in planner["infeasible_reason"]
    feasible = router.optimize_task_execution(task.model_copy(update={"max_cost": 5.0}))
    assert feasible.metadata["planner"]["feasible"] and "infeasible_reason" not in feasible.metadata["planner"]
