"""``learn_from_execution``'s ``LearningResult`` counts the outcomes the policies learned: a late
outcome of a removed tool, or of a tool that no longer serves the step's capability, is stored but
learned by no policy, and the result does not report it as learned."""

from toolrouter import ExecutionResult, TaskProfile, ToolMetaLearner, ToolProfile

TASK = TaskProfile(task_id="t", required_capabilities=["search"])


def _router() -> ToolMetaLearner:
    tools = [ToolProfile(tool_id=t, capabilities=["search"]) for t in ("web", "wiki")]
    router = ToolMetaLearner(tools, seed=0, store="memory://")
    router.optimize_task_execution(TASK)  # the route exists, with both tools
    return router


def test_a_removed_tools_late_outcome_is_stored_but_not_reported_as_learned() -> None:
    router = _router()
    router.remove_tool("web")
    result = router.learn_from_execution(TASK, [
        ExecutionResult(tool_id="web", step="search", success=True, cost=5.0),
        ExecutionResult(tool_id="wiki", step="search", success=False, cost=1.0),
    ])  # fmt: skip
    assert router.store is not None and router.store.count() == 2  # both kept
    assert result.updated_tools == ("wiki",)
    assert result.n_results == 1 and set(result.utilities) == {"wiki"}
    assert (result.success_rate, result.total_cost) == (0.0, 1.0)
    assert router.tool_statistics()["wiki"].calls == 1


def test_a_tool_that_left_the_capability_is_not_reported_as_learned() -> None:
    router = _router()
    router.update_tool(ToolProfile(tool_id="web", capabilities=["fetch"]))
    result = router.learn_from_execution(TASK, [ExecutionResult(tool_id="web", step="search", success=True)])
    assert (result.n_results, result.updated_tools, result.utilities) == (0, (), {})
    assert router.tool_statistics()["web"].calls == 0
