"""A task with declared steps whose results come out of dependency order is refused, as a trace
of a task that declares none is: its structure would be learned without the dependency."""

from __future__ import annotations

import pytest

from toolrouter import ExecutionResult, TaskProfile, ToolMetaLearner, ToolProfile
from toolrouter.errors import InvalidOutcomeError
from toolrouter.models import TaskStep


def _router() -> ToolMetaLearner:
    tools = [ToolProfile(tool_id="web", capabilities=["search"]), ToolProfile(tool_id="calc", capabilities=["analysis"])]
    return ToolMetaLearner(tools, store="memory://", seed=0)


TASK = TaskProfile(task_id="t", task_type="research", steps=[
    TaskStep(step_id="search", capability="search"),
    TaskStep(step_id="analysis", capability="analysis", depends_on=["search"]),
])
SEARCH = ExecutionResult(tool_id="web", step="search", success=True)
ANALYSIS = ExecutionResult(tool_id="calc", step="analysis", success=True)


def test_a_result_before_the_result_of_a_step_it_consumes_is_refused_and_nothing_recorded() -> None:
    router = _router()
    with pytest.raises(InvalidOutcomeError, match=r"execution_results\[0\]\.step: step 'analysis' .* consumes 'search'"):
        router.learn_from_execution(TASK, [ANALYSIS, SEARCH])
    assert router.store.attempts() == [] and router.structures.traces("research") == 0
    assert router.tool_statistics()["calc"].calls == 0
    router.learn_from_execution(TASK, [SEARCH, ANALYSIS.model_copy(update={"success": False}), ANALYSIS])
    (learned,) = [p for p in router.structures.distribution("research") if p.source == "learned"]
    assert [(s.step, s.depends_on) for s in learned.steps] == [("search", ()), ("analysis", ("search",))]


def test_a_parent_an_earlier_call_of_the_trace_ran_may_come_first() -> None:
    router = _router()
    router.learn_from_execution(TASK, [SEARCH], trace_id="run")
    router.learn_from_execution(TASK, [ANALYSIS, SEARCH], trace_id="run")  # search's retry: already in the trace
    assert [(s.step, s.depends_on) for s in router.trace_steps("run")] == [("search", ()), ("analysis", ("search",))]
