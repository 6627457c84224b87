"""execute checks allow_infeasible with a plan made earlier too, and runs that plan as it is."""

import pytest

from toolrouter import TaskProfile, ToolMetaLearner, ToolProfile

CALLS: list = []  # the requests the tool was called with


def router() -> ToolMetaLearner:
    r = ToolMetaLearner([ToolProfile(tool_id="dear", capabilities=["search"], cost_per_use=5.0)], seed=0)
    r.functions["dear"] = lambda request: CALLS.append(request) or "found"
    return r


TASK = TaskProfile(task_id="tight", required_capabilities=["search"], max_cost=1.0)


def test_a_non_bool_refused_with_a_plan():
    CALLS.clear()
    r = router()
    plan = r.optimize_task_execution(TASK, allow_infeasible=True)
    with pytest.raises(TypeError, match="allow_infeasible: expected True or False, got 'no'"):
        r.execute(TASK, "bees", plan=plan, allow_infeasible="no")
    assert CALLS == []  # refused before any tool ran


def test_a_plan_over_budget_runs_as_given_either_way():
    r = router()
    plan = r.optimize_task_execution(TASK, allow_infeasible=True)
    for flag in (False, True):
        run = r.execute(TASK, "bees", plan=plan, allow_infeasible=flag)
        assert run.plan is plan
        assert run.status.value == "succeeded"
