"""A task's request is planned from the text its traces are learned from."""

from __future__ import annotations

from toolrouter import ExecutionResult, TaskProfile, ToolMetaLearner, ToolProfile
from toolrouter.store.base import MAX_REQUEST_CHARS


def test_a_long_request_is_planned_from_the_text_its_traces_taught() -> None:
    # traces learn the request cut to MAX_REQUEST_CHARS; the plan featurised the whole text (the
    # structure model also remembered each whole text), so the same request got another probability
    tools = [
        ToolProfile(tool_id="web", capabilities=["search"], description="search the web"),
        ToolProfile(tool_id="calc", capabilities=["analysis"], description="compute numbers"),
    ]
    router = ToolMetaLearner(tools, seed=0)
    request = "please look this up and work out the totals " * 50 + "zeta " * 5000
    assert len(request) > MAX_REQUEST_CHARS
    for i in range(2):
        router.learn_from_execution(TaskProfile(task_id=f"t{i}", task_type="reports", context=request), [
            ExecutionResult(tool_id="web", step="search", success=True),
            ExecutionResult(tool_id="calc", step="analysis", success=True),
        ])  # fmt: skip
    for i in range(6):
        router.learn_from_execution(TaskProfile(task_id=f"u{i}", task_type="reports", context=f"quick lookup of item {i}"),
                                    [ExecutionResult(tool_id="web", step="search", success=True)])  # fmt: skip
    whole = router.optimize_task_execution(TaskProfile(task_id="a", task_type="reports", context=request))
    learned = router.optimize_task_execution(TaskProfile(task_id="b", task_type="reports", context=request[:MAX_REQUEST_CHARS]))
    assert whole.topological_order() == ["search", "analysis"]
    assert whole.structure == learned.structure
