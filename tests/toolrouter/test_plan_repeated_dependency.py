"""A plan step that lists a dependency twice is refused when the plan is made or read, naming the
step: it was taken, written to JSON as it was, and the router refused to run it, in the words of a
``TaskStep`` that names no step of the plan."""

from __future__ import annotations

import pytest

from toolrouter import TaskProfile, ToolMetaLearner, ToolProfile
from toolrouter.plan import ExecutionPlan, PlanStep, ToolChoice

WEB = ToolChoice("web", 1.0, 1.0, 0.9, 0.1, 0.1)
CALC = ToolChoice("calc", 1.0, 1.0, 0.9, 0.1, 0.1)
STEPS = [PlanStep("search", "search", (WEB,)), PlanStep("analysis", "analysis", (CALC,), ("search", "search"))]


def test_from_steps_refuses_a_dependency_listed_twice() -> None:
    with pytest.raises(ValueError, match=r"^steps\[1\]\['depends_on'\]: a step is listed twice in \['search', 'search'\]$"):
        ExecutionPlan.from_steps("u", "t", STEPS)


def test_from_dict_refuses_it_too_and_a_sound_plan_still_runs() -> None:
    sound = ExecutionPlan.from_steps("u", "t", [STEPS[0], PlanStep("analysis", "analysis", (CALC,), ("search",))])
    data = sound.to_dict()
    data["steps"][1]["depends_on"] = ["search", "search"]
    with pytest.raises(ValueError, match=r"^data\['steps'\]\[1\]\['depends_on'\]: a step is listed twice"):
        ExecutionPlan.from_dict(data)
    router = ToolMetaLearner([ToolProfile(tool_id="web", capabilities=["search"]), ToolProfile(tool_id="calc", capabilities=["analysis"])], seed=0)
    run = router.execute(TaskProfile(task_id="u", task_type="t"), plan=sound, tools={"web": lambda r: "x", "calc": lambda r: "y"})
    assert run.run.succeeded
