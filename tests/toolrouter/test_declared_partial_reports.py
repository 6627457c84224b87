"""A task's declared steps reported one call at a time (no ``trace_id``) teach no structure: each
call ran only part of the task, and a step without the steps it consumes is not what its type runs."""

from __future__ import annotations

from pathlib import Path

from toolrouter import ExecutionResult, TaskProfile, ToolMetaLearner, ToolProfile
from toolrouter.models import TaskStep

TOOLS = [ToolProfile(tool_id="web", capabilities=["search"]), ToolProfile(tool_id="calc", capabilities=["analysis"])]
DECLARED = TaskProfile(
    task_id="t",
    task_type="research",
    steps=[TaskStep(step_id="search", capability="search"), TaskStep(step_id="analysis", capability="analysis", depends_on=["search"])],
)
SEARCH = ExecutionResult(tool_id="web", step="search", success=True)
ANALYSIS = ExecutionResult(tool_id="calc", step="analysis", success=True)


def test_steps_reported_call_by_call_teach_no_structure_here_nor_on_replay(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    r = ToolMetaLearner(TOOLS, seed=0, store=url)
    for _ in range(3):
        r.learn_from_execution(DECLARED, [SEARCH])
        r.learn_from_execution(DECLARED, [ANALYSIS])
    assert r.structures.traces("research") == 0  # was 6: "search" alone and "analysis" alone
    assert r.tool_statistics("research", "analysis")["calc"].calls == 3  # the tools still learn
    plan = r.optimize_task_execution(TaskProfile(task_id="u", task_type="research"))
    assert plan.structure.source == "default"  # was "analysis" alone, learned
    r.close()
    again = ToolMetaLearner(TOOLS, seed=0, store=url)  # replays the log: the same
    assert again.structures.traces("research") == 0
    again.close()


def test_every_declared_step_in_one_call_or_one_trace_still_teaches_the_structure() -> None:
    r = ToolMetaLearner(TOOLS, seed=0)
    r.learn_from_execution(DECLARED, [ANALYSIS, SEARCH])
    r.learn_from_execution(DECLARED, [SEARCH], trace_id="run")
    r.learn_from_execution(DECLARED, [ANALYSIS], trace_id="run")
    assert r.structures.summary("research")["dependencies"]["search -> analysis"]["traces"] == 2
    plan = r.optimize_task_execution(TaskProfile(task_id="u", task_type="research"))
    assert (sorted(plan.graph.edges), plan.structure.source) == ([("search", "analysis")], "learned")
