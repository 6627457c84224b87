"""execute plans over the tools it can call: under a budget, a cheap tool with no function was
chosen, and the run paid its fallback, which the plan never counted."""

import pytest

from toolrouter import BudgetInfeasibleError, TaskProfile, ToolMetaLearner, ToolProfile
from toolrouter.executor import ExecutorConfig


def router() -> ToolMetaLearner:
    return ToolMetaLearner(
        [
            ToolProfile(tool_id="cheap", capabilities=["search"], cost_per_use=0.1),
            ToolProfile(tool_id="dear", capabilities=["search"], cost_per_use=3.0),
        ],
        seed=0,
    )


def test_the_plan_lists_only_tools_with_functions():
    r = router()
    r.functions["dear"] = lambda request: "pages"
    task = TaskProfile(task_id="t", required_capabilities=["search"], max_cost=5.0)
    run = r.execute(task, "bees", config=ExecutorConfig(enforce_budget=True, circuit_breaker=None))
    assert run.plan.step("search").ranked_tool_ids == ("dear",)
    assert run.plan.expected_cost == pytest.approx(3.0)
    assert run.succeeded and run.total_cost == pytest.approx(3.0)
    assert run.unlearned == []


def test_a_budget_only_an_uncallable_tool_meets_is_infeasible():
    r = router()
    r.functions["dear"] = lambda request: "pages"
    task = TaskProfile(task_id="t", required_capabilities=["search"], max_cost=1.0)
    # planned over both, "cheap" met the budget on paper, and the run paid "dear" or did nothing
    with pytest.raises(BudgetInfeasibleError):
        r.execute(task, "bees")


def test_a_step_no_callable_tool_serves_lists_its_tools_and_the_rest_runs():
    r = router()
    r.add_tool(ToolProfile(tool_id="calc", capabilities=["math"]))
    r.functions["calc"] = lambda request: 4
    task = TaskProfile(task_id="t", steps=[{"step_id": "search", "capability": "search"},
                                           {"step_id": "sum", "capability": "math"}])
    run = r.execute(task, "bees")
    assert set(run.plan.step("search").ranked_tool_ids) == {"cheap", "dear"}
    assert run.outputs == {"sum": 4} and run.run.steps["search"].status.value == "failed"
    assert {a.tool_id for a in run.unlearned} == {"cheap", "dear"}  # each one's missing function


def test_tools_checked():
    r = router()
    task = TaskProfile(task_id="t", required_capabilities=["search"])
    with pytest.raises(TypeError, match="^tools: "):
        r.optimize_task_execution(task, tools="cheap")
    assert r.optimize_task_execution(task, tools=["cheap"]).step("search").ranked_tool_ids == ("cheap",)
