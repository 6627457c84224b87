"""The function forms of the router's two main calls take the methods' keyword options, as their
docstrings say: a caller of ``learn_from_execution(router, ...)`` can spread a trace over calls."""

from toolrouter import ExecutionResult, TaskProfile, ToolMetaLearner, ToolProfile, learn_from_execution, optimize_task_execution


def test_the_function_forms_take_the_methods_keyword_options() -> None:
    router = ToolMetaLearner([ToolProfile(tool_id="web", capabilities=["search"]),
                              ToolProfile(tool_id="wiki", capabilities=["search"])], seed=0)
    task = TaskProfile(task_id="q", task_type="research", required_capabilities=["search"])
    assert optimize_task_execution(router, task, tools=["wiki"]).tool_for("search") == "wiki"
    result = learn_from_execution(router, task, [ExecutionResult(tool_id="wiki", step="search", success=True)], trace_id="t1")
    assert result.n_results == 1 and router.tool_statistics()["wiki"].calls == 1
    assert router.close_trace("t1")  # held open for more steps, as the method's trace_id does
