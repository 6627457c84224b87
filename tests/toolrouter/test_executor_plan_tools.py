"""A plan given to ``execute`` whose steps list a tool that cannot serve them is refused before any
tool runs, naming the step and the tool: the tool was called, and its outcome refused as the
step's (the step failed with ``run.callback_errors`` saying why)."""

from __future__ import annotations

import pytest

from toolrouter.executor import ExecutorConfig, RetryPolicy
from toolrouter.learner import ToolMetaLearner
from toolrouter.models import TaskProfile, TaskStep, ToolProfile
from toolrouter.plan import ExecutionPlan

FAST = ExecutorConfig(timeout_s=0.5, retry=RetryPolicy(max_retries=0), circuit_breaker=None)
TASK = TaskProfile(task_id="t", steps=[TaskStep(step_id="search", capability="search"),
                                       TaskStep(step_id="write", capability="llm", depends_on=["search"])])


def router_and_calls():
    router = ToolMetaLearner([ToolProfile(tool_id="web", capabilities=["search"]),
                              ToolProfile(tool_id="wiki", capabilities=["search"]),
                              ToolProfile(tool_id="gpt", capabilities=["llm"])], seed=0, store="memory://")
    calls: list[str] = []
    for name in ("web", "wiki", "gpt"):
        router.functions[name] = lambda request, name=name: calls.append(name) or name
    return router, calls


def with_search_tool(plan: ExecutionPlan, tool_id: str) -> ExecutionPlan:
    data = plan.to_dict()
    (search,) = [s for s in data["steps"] if s["step"] == "search"]
    search["candidates"][0]["tool_id"] = tool_id
    return ExecutionPlan.from_dict(data)


@pytest.mark.parametrize("tool_id, message", [
    ("gpt", r"^plan: step 'search' lists tool 'gpt', which serves \['llm'\], not 'search'"),
    ("bing", r"^plan: step 'search' lists tool 'bing', which the router does not know$"),
])
def test_a_step_listing_a_tool_that_cannot_serve_it_is_refused(tool_id: str, message: str) -> None:
    router, calls = router_and_calls()
    plan = with_search_tool(router.optimize_task_execution(TASK), tool_id)
    for task in (TASK, TaskProfile(task_id="u", task_type="free")):  # declared steps, or the plan's own
        with pytest.raises(ValueError, match=message):
            router.execute(task, plan=plan, config=FAST)
    assert calls == [] and router.store.count() == 0


def test_a_plan_made_before_its_tool_changed_capability_is_refused_one_made_before_a_removal_runs() -> None:
    router, calls = router_and_calls()
    plan = router.optimize_task_execution(TASK)
    chosen = plan.tool_for("search")
    router.update_tool(ToolProfile(tool_id=chosen, capabilities=["fetch"]))
    with pytest.raises(ValueError, match=rf"^plan: step 'search' lists tool '{chosen}', which serves \['fetch'\]"):
        router.execute(TASK, plan=plan, config=FAST)
    assert calls == [] and router.store.count() == 0
    router.remove_tool(chosen)  # gone: the step falls back to the other search tool
    execution = router.execute(TASK, plan=plan, config=FAST)
    assert execution.run.succeeded and chosen not in calls and execution.run.callback_errors == []
