"""A trace whose steps' dependencies form a cycle is refused with an error naming the result of a
step on the cycle (``execution_results[i].depends_on``), as ``check_trace``'s other refusals
are, where it named the whole list (``execution_results``): in a long list, which step to fix
was left to find."""

from __future__ import annotations

import pytest

from toolrouter import ExecutionResult, TaskProfile, ToolMetaLearner, ToolProfile, ToolType
from toolrouter.errors import InvalidOutcomeError
from toolrouter.structure import StructureModel


def test_a_cycle_names_the_result_of_a_step_on_it() -> None:
    where = lambda i: f"execution_results[{i}]"  # noqa: E731
    entries = [("z", "x", None), ("a", "x", ["b"]), ("b", "y", ["a"]), ("c", "y", None)]  # a consumes b, which consumes a
    with pytest.raises(
        InvalidOutcomeError, match=r"^execution_results\[1\]\.depends_on: the dependencies of step 'a' form a cycle a -> b -> a$"
    ):
        StructureModel().check_trace("t", entries, where)


def test_learning_a_cycle_records_nothing_and_names_its_step() -> None:
    r = ToolMetaLearner([ToolProfile(tool_id="web", tool_type=ToolType.SEARCH, capabilities=["search"])], seed=0)
    results = [
        ExecutionResult(tool_id="web", step="z", success=True),
        ExecutionResult(tool_id="web", step="a", success=True),
        ExecutionResult(tool_id="web", step="b", success=True, depends_on=["c"]),
        ExecutionResult(tool_id="web", step="c", success=True, depends_on=["b"]),
    ]
    with pytest.raises(InvalidOutcomeError, match=r"^execution_results\[[23]\]\.depends_on: the dependencies of step '[bc]'"):
        r.learn_from_execution(TaskProfile(task_id="x", task_type="t"), results, trace_id="T")
    assert r.trace_steps("T") == () and r.tool_statistics()["web"].calls == 0
