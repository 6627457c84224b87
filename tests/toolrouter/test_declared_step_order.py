"""Results of a task with declared steps may come in any order (gathered by name, as they
finished): they are learned in the declared graph's order, so the trace keeps every declared
dependency. Learned in the order given, a step's result before its parent's was learned without
that dependency."""

from __future__ import annotations

from toolrouter import ExecutionResult, TaskProfile, ToolMetaLearner, ToolProfile
from toolrouter.models import TaskStep


def _router() -> ToolMetaLearner:
    tools = [ToolProfile(tool_id="web", capabilities=["search"]), ToolProfile(tool_id="calc", capabilities=["analysis"])]
    return ToolMetaLearner(tools, store="memory://", seed=0)


# declared with the consumer first: the list's order is not the graph's
TASK = TaskProfile(task_id="t", task_type="research", steps=[
    TaskStep(step_id="analysis", capability="analysis", depends_on=["search"]),
    TaskStep(step_id="search", capability="search"),
])
SEARCH = ExecutionResult(tool_id="web", step="search", success=True)
ANALYSIS = ExecutionResult(tool_id="calc", step="analysis", success=True)


def _learned(router: ToolMetaLearner) -> list[tuple[str, tuple[str, ...]]]:
    (learned,) = [p for p in router.structures.distribution("research") if p.source == "learned"]
    return [(s.step, s.depends_on) for s in learned.steps]


def test_results_out_of_dependency_order_are_learned_in_the_declared_order() -> None:
    router = _router()
    router.learn_from_execution(TASK, [ANALYSIS, SEARCH])
    assert _learned(router) == [("search", ()), ("analysis", ("search",))]
    assert [a.step for a in router.store.attempts()] == ["search", "analysis"]
    stats = router.tool_statistics()
    assert stats["calc"].calls == 1 and stats["web"].calls == 1


def test_retries_keep_their_order_within_a_step() -> None:
    router = _router()
    failed = ANALYSIS.model_copy(update={"success": False})
    router.learn_from_execution(TASK, [failed, SEARCH, ANALYSIS])
    assert [(a.step, a.success) for a in router.store.attempts()] == [("search", True), ("analysis", False), ("analysis", True)]
    assert _learned(router) == [("search", ()), ("analysis", ("search",))]


def test_a_parent_an_earlier_call_of_the_trace_ran_may_come_first() -> None:
    router = _router()
    router.learn_from_execution(TASK, [SEARCH], trace_id="run")
    router.learn_from_execution(TASK, [ANALYSIS, SEARCH], trace_id="run")  # search's retry: already in the trace
    assert [(s.step, s.depends_on) for s in router.trace_steps("run")] == [("search", ()), ("analysis", ("search",))]
