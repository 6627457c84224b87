"""``create_tool_optimization_benchmark`` takes its tasks as ``{task_id: TaskProfile}``, as it takes
its tools: such a mapping was read as the fields of one task and refused for lacking a task_id. A
task in a list that is not one is named by its place (``tasks[1]``), not as ``task``."""

from __future__ import annotations

import pytest

from toolrouter import TaskProfile, ToolProfile, create_tool_optimization_benchmark

TOOLS = {
    "good": ToolProfile(tool_id="good", capabilities=["search"], reliability=0.95),
    "poor": ToolProfile(tool_id="poor", capabilities=["search"], reliability=0.3),
}
TASKS = [TaskProfile(task_id="q", required_capabilities=["search"]), TaskProfile(task_id="r", task_type="other")]


def run(tasks):
    return create_tool_optimization_benchmark(TOOLS, tasks, 8, policies=["ucb1", "random"], seeds=1)


def test_tasks_by_id_run_as_the_same_list() -> None:
    by_id = run({t.task_id: t for t in TASKS})
    assert by_id.task_ids == ("q", "r")
    assert by_id.to_dict() == run(TASKS).to_dict()


@pytest.mark.parametrize(
    ("tasks", "error", "message"),
    [
        ({"x": TASKS[0]}, ValueError, r"tasks: key 'x' differs from its profile's task_id 'q'"),
        ([TASKS[0], "q"], TypeError, r"tasks\[1\]: expected a TaskProfile, got 'q'"),
        ([TASKS[0], {"task_id": ""}], ValueError, r"(?s)tasks\[1\]: .*task_id must be a non-empty string"),
    ],
)
def test_a_task_that_is_not_one_is_named(tasks, error, message) -> None:
    with pytest.raises(error, match=message):
        run(tasks)
