"""A function assigned to ``router.functions`` after the router's executor was made is checked as
the executor checks those it starts with: a value that is not callable (a tool's result, say,
assigned in place of the tool) was called at every try, failed with "'int' object is not
callable", was retried, and taught the router that the tool fails."""

from __future__ import annotations

import pytest

from toolrouter import TaskProfile, ToolMetaLearner, ToolProfile


def pages(request):
    yield "a page"


@pytest.mark.parametrize("value, message", [
    (5, r"^learner\.functions\['web'\]: expected a callable, got 5$"),
    (pages, r"^learner\.functions\['web'\]: .* is a generator function, .* return its items \(a list, say\)$"),
])
def test_execute_refuses_a_function_that_cannot_be_a_tool_before_any_tool_runs(value, message) -> None:
    router = ToolMetaLearner([ToolProfile(tool_id="web", capabilities=["search"])], seed=0)
    router.functions["web"] = lambda request: "pages"
    task = TaskProfile(task_id="t", task_type="qa", required_capabilities=["search"])
    assert router.execute(task, "bees").succeeded  # the router's executor is made, and kept

    router.functions["web"] = value
    with pytest.raises(TypeError, match=message):
        router.execute(task, "bees")
    assert router.tool_statistics()["web"].calls == 1  # nothing was learned of the tool
