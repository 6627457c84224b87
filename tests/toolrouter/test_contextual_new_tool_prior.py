"""A tool added to a route that contextual policies have learned starts from its profile's utility
(on its model's intercept), not from zero: otherwise a linear policy never tries it, however good it is."""

import pytest

from toolrouter import ExecutionResult, TaskProfile, ToolMetaLearner, ToolProfile


def _router(policy: str) -> tuple[ToolMetaLearner, TaskProfile]:
    context = {} if policy == "gaussian_ts" else {"context_dim": 4}  # gaussian_ts takes no context
    router = ToolMetaLearner([ToolProfile(tool_id="old", capabilities=["search"])], policy=policy, seed=0, **context)
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


@pytest.mark.parametrize("policy", ["linucb", "lin_ts", "neural_linear"])
def test_the_new_tool_predicts_its_profiles_utility_as_under_every_policy(policy: str) -> None:
    router, task = _router(policy)
    reference, _ = _router("gaussian_ts")
    for r in (router, reference):
        r.add_tool(ToolProfile(tool_id="new", capabilities=["search"], reliability=0.6, cost_per_use=0.2))
    new = {c.tool_id: c for c in router.optimize_task_execution(task).step("search").candidates}["new"]
    expected = {c.tool_id: c for c in reference.optimize_task_execution(task).step("search").candidates}["new"]
    assert new.expected_utility == pytest.approx(expected.expected_utility)
    assert new.expected_utility < 1.5  # below what the old tool earns: the profile's, not the others'
