"""A plan's names (steps, capabilities, dependencies, tools) are names as a ``TaskStep`` and an
``ExecutionResult`` hold them: a step " search " was taken, its attempts came back from the router
as step "search", and its tool's success was learned as a failure."""

from __future__ import annotations

import json

import pytest

from toolrouter import TaskProfile, ToolMetaLearner, ToolProfile
from toolrouter.plan import ExecutionPlan, PlanStep, ToolChoice

WEB = ToolChoice("web", 1.0, 1.0, 0.9, 0.0, 0.1)
SOUND = ExecutionPlan.from_steps("t", "free", [PlanStep("search", "search", (WEB,))])


@pytest.mark.parametrize(("edit", "message"), [
    (lambda s: s.update(step=" search "), r"^data\['steps'\]\[0\]\['step'\]: expected a name without surrounding whitespace, got ' search '$"),
    (lambda s: s.update(capability="search\n"), r"^data\['steps'\]\[0\]\['capability'\]: expected a name without surrounding whitespace"),
    (lambda s: s["candidates"][0].update(tool_id=" web"), r"^data\['steps'\]\[0\]\['candidates'\]\[0\]\['tool_id'\]: expected a name without"),
    (lambda s: s.update(step="a\x00b"), r"^data\['steps'\]\[0\]\['step'\] must be text a store can keep \(no NUL character\)"),
])
def test_a_name_a_step_could_not_hold_is_refused_naming_it(edit, message) -> None:
    data = json.loads(SOUND.to_json())
    edit(data["steps"][0])
    with pytest.raises(ValueError, match=message):
        ExecutionPlan.from_dict(data)


def test_from_steps_refuses_it_too_and_the_sound_plan_is_learned_as_it_ran() -> None:
    with pytest.raises(ValueError, match=r"^steps\[1\]\['depends_on'\]: expected a name without surrounding whitespace, got 'search '$"):
        ExecutionPlan.from_steps("t", "free", [PlanStep("search", "search", (WEB,)), PlanStep("b", "search", (WEB,), ("search ",))])
    router = ToolMetaLearner([ToolProfile(tool_id="web", capabilities=["search"])], seed=0)
    execution = router.execute(TaskProfile(task_id="u", task_type="free"), plan=SOUND, tools={"web": lambda request: "pages"})
    assert execution.run.succeeded and execution.run.callback_errors == []
    assert router.tool_statistics()["web"].successes == 1
