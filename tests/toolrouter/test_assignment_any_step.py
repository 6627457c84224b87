"""A planner ``Assignment`` of a task with a step any tool may serve runs with ``execute``: its step
says ``"*"`` where the task's steps and a router's plan say ``None``, and the plan was refused as
serving another capability."""

from __future__ import annotations

import pytest

from toolrouter import TaskProfile, ToolMetaLearner, ToolProfile
from toolrouter.models import TaskStep
from toolrouter.planner import Candidate, assign_tools, build_task_graph

STEPS = [TaskStep(step_id="any", capability="*"), TaskStep(step_id="write", capability="llm", depends_on=["any"])]


def test_an_assignment_with_an_any_tool_step_runs_and_is_learned() -> None:
    router = ToolMetaLearner([ToolProfile(tool_id="web", capabilities=["search"]), ToolProfile(tool_id="gpt", capabilities=["llm"])],
                             seed=0, store="memory://")
    router.functions.update(web=lambda request: "pages", gpt=lambda request: "answer")
    plan = assign_tools(build_task_graph(STEPS), {"any": [Candidate("web", 0.9)], "write": [Candidate("gpt", 0.9)]})
    execution = router.execute(TaskProfile(task_id="t", steps=STEPS), plan=plan)
    assert execution.run.succeeded and execution.run.callback_errors == [] and execution.unlearned == []
    assert router.tool_statistics()["web"].successes == 1
    # a step the task has serve "llm" is still not one any tool serves
    other = assign_tools(build_task_graph([TaskStep(step_id="any", capability="llm"), STEPS[1]]),
                         {"any": [Candidate("gpt", 0.9)], "write": [Candidate("gpt", 0.9)]})
    with pytest.raises(ValueError, match=r"^plan: step 'any' serves 'llm'; task 't' has it serve None$"):
        router.execute(TaskProfile(task_id="t", steps=STEPS), plan=other)
