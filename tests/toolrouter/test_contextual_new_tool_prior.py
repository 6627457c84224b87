"""A tool added to a route that contextual policies have learned starts from what the route's other
tools earn, not from zero utility: otherwise a linear policy never tries it, however good it is."""

import numpy as np
import pytest

from toolrouter import ExecutionResult, TaskProfile, ToolMetaLearner, ToolProfile


def _router(policy: str) -> tuple[ToolMetaLearner, TaskProfile]:
    router = ToolMetaLearner([ToolProfile(tool_id="old", capabilities=["search"])], policy=policy, seed=0, context_dim=4)
    task = TaskProfile(task_id="t", required_capabilities=["search"], features=(0.5, 0.5, 0.5, 0.5))
    for _ in range(30):  # the old tool earns 1.5 a call
        router.learn_from_execution(task, [ExecutionResult(tool_id="old", step="search", success=True, quality=0.5)])
    return router, task


@pytest.mark.parametrize("policy", ["linucb", "lin_ts"])
def test_a_better_tool_added_later_is_tried_and_preferred(policy: str) -> None:
    router, task = _router(policy)
    router.add_tool(ToolProfile(tool_id="new", capabilities=["search"]))
    picks = []
    for _ in range(30):  # the new tool earns 2.0 a call
        tool_id = router.optimize_task_execution(task).tool_for("search")
        picks.append(tool_id)
        quality = 1.0 if tool_id == "new" else 0.5
        router.learn_from_execution(task, [ExecutionResult(tool_id=tool_id, step="search", success=True, quality=quality)])
    assert picks.count("new") >= 20, picks


def test_the_new_tool_predicts_what_the_others_earn() -> None:
    router, task = _router("linucb")
    router.add_tool(ToolProfile(tool_id="new", capabilities=["search"]))
    choices = {c.tool_id: c for c in router.optimize_task_execution(task).step("search").candidates}
    assert np.isclose(choices["new"].expected_utility, choices["old"].expected_utility)
