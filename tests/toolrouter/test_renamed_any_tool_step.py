"""The step any tool may serve keeps its capability when a plan renames it: its name ``main`` held
for another capability in the task type, the router plans it as ``main_2``, and the run's attempt
at it was taken for its tool's capability, refused as a clash with the route, and lost."""

from __future__ import annotations

import pytest

from toolrouter import ExecutionResult, TaskProfile, ToolMetaLearner, ToolProfile

TOOLS = [ToolProfile(tool_id="web", capabilities=["search"]), ToolProfile(tool_id="calc", capabilities=["analysis"])]


def _router() -> ToolMetaLearner:
    router = ToolMetaLearner(TOOLS, seed=0)
    # step "main" of task type "t" is routed for "search": the any-tool step must take another name
    router.record_attempt(ExecutionResult(tool_id="web", success=True), capability="search", task_type="t", step="main")
    return router


def test_a_run_of_the_renamed_any_tool_step_is_learned() -> None:
    router = _router()
    task = TaskProfile(task_id="u", task_type="t")
    plan = router.optimize_task_execution(task)
    assert [(s.step, s.capability) for s in plan.steps] == [("main_2", None)]
    run = router.execute(task, plan=plan, tools={"web": lambda request: "x", "calc": lambda request: "y"})
    assert run.run.succeeded and run.unlearned == [] and run.run.callback_errors == []
    assert router.structures.traces("t") == 1  # its trace counts: one step any tool may serve
    (proposal,) = [p for p in router.structures.distribution("t") if p.source == "learned"]
    assert [s.capability for s in proposal.steps] == [None]


def test_a_reported_attempt_at_a_planned_step_takes_the_steps_capability() -> None:
    router = _router()
    task = TaskProfile(task_id="u", task_type="t")
    router.optimize_task_execution(task)  # routes "main_2" for any tool
    router.learn_from_execution(task, [ExecutionResult(tool_id="calc", step="main_2", success=True)])
    assert router.tool_statistics("t", "main_2")["calc"].calls == 1  # was refused: routed for None, got "analysis"
    assert list(router.structures.summary("t")["capabilities"]) == ["main"]  # the step any tool may serve


def test_a_step_whose_route_its_tool_does_not_serve_still_names_the_clash() -> None:
    router = _router()  # "main" routed for "search"
    router.record_attempt(ExecutionResult(tool_id="calc", success=True), capability="analysis", task_type="t", step="sum")
    with pytest.raises(ValueError, match=r"step 'sum' of task type 't' was routed for capability 'analysis', got 'search'"):
        router.learn_from_execution(TaskProfile(task_id="u", task_type="t"), [ExecutionResult(tool_id="web", step="sum", success=True)])
