"""A plan built by hand (``ExecutionPlan.from_steps``) is checked field by field, as a plan read
from JSON is: a NaN or negative prediction was summed into the totals and charged by the executor
for every call of its tool, a tool listed twice was tried twice, and dependencies given as a string
were read as its characters."""

from __future__ import annotations

import dataclasses

import pytest

from toolrouter.executor import ExecutorConfig, PlanExecutor, RetryPolicy
from toolrouter.plan import ExecutionPlan, PlanStep, PlanStructure, ToolChoice
from toolrouter.planner import Candidate

WEB = ToolChoice("web", score=1.0, expected_utility=0.5, predicted_success=0.9, predicted_cost=0.1, predicted_latency_s=1.0)


def _steps(**changes) -> list[PlanStep]:
    return [PlanStep("search", "search", (dataclasses.replace(WEB, **changes),)), PlanStep("answer", "llm", (WEB,), ("search",))]


@pytest.mark.parametrize(
    "steps, message",
    [
        (_steps(score=float("nan")), r"steps\[0\]\['candidates'\]\[0\]\['score'\]: expected a finite number, got nan"),
        (_steps(predicted_cost=-1.0), r"steps\[0\]\['candidates'\]\[0\]\['predicted_cost'\]: expected a finite number >= 0, got -1.0"),
        (_steps(predicted_success=1.5), r"\['predicted_success'\]: expected a finite number in \[0, 1\], got 1.5"),
        (_steps(predicted_latency_s=float("inf")), r"\['predicted_latency_s'\]: expected a finite number >= 0, got inf"),
        (_steps(expected_utility="high"), r"\['expected_utility'\]: expected a finite number, got 'high'"),
        (_steps(tool_id=""), r"steps\[0\]\['candidates'\]\[0\]\['tool_id'\]: expected a non-empty string, got ''"),
        ([PlanStep("search", "search", (WEB, WEB))], r"steps\[0\]\['candidates'\]\[1\]\['tool_id'\]: 'web' is listed twice in step 'search'"),
        ([PlanStep("s", "search", (WEB,)), PlanStep("answer", "llm", (WEB,), "s")], r"steps\[1\]\['depends_on'\]: expected a list, got 's'"),
        ([PlanStep("search", "search", ({"tool_id": "web"},))], r"steps\[0\]\['candidates'\]\[0\]: expected a ToolChoice, got \{'tool_id'"),
    ],
)
def test_a_step_field_a_plan_cannot_hold_is_refused_naming_it(steps, message) -> None:
    with pytest.raises(ValueError, match=message):
        ExecutionPlan.from_steps("t", "research", steps)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: ExecutionPlan.from_steps(7, "research", _steps()), r"task_id: expected a string, got 7"),
        (lambda: ExecutionPlan.from_steps("t", None, _steps()), r"task_type: expected a string, got None"),
        (lambda: ExecutionPlan.from_steps("t", "research", "search"), r"steps: expected a list of PlanStep, got 'search'"),
        (lambda: ExecutionPlan.from_steps("t", "research", [("search", "search")]), r"steps\[0\]: expected a PlanStep, got \('search'"),
        (lambda: ExecutionPlan.from_steps("t", "research", _steps(), structure="learned"), r"structure: expected a PlanStructure, got 'learned'"),
    ],
)
def test_arguments_of_the_wrong_kind_are_refused_naming_them(make, message) -> None:
    with pytest.raises(TypeError, match=message):
        make()


def test_a_structure_the_router_could_not_have_made_is_refused() -> None:
    with pytest.raises(ValueError, match=r"structure\['probability'\]: expected a finite number in \[0, 1\], got 2.0"):
        ExecutionPlan.from_steps("t", "research", _steps(), structure=PlanStructure("learned", probability=2.0))


def test_a_sound_plan_from_any_sequence_of_steps_runs() -> None:
    plan = ExecutionPlan.from_steps("t", "research", tuple(_steps()), structure=PlanStructure("template"))
    assert plan.expected_cost == pytest.approx(0.2) and plan.structure.source == "template"
    tools = {"web": lambda request: f"{request.step_id}:{sorted(request.upstream)}"}
    with PlanExecutor(tools, ExecutorConfig(retry=RetryPolicy(max_retries=0))) as executor:
        run = executor.run(plan)
    assert run.outputs == {"search": "search:[]", "answer": "answer:['search']"}
    assert run.total_cost == pytest.approx(0.2)


@pytest.mark.parametrize("utility", [True, "1", float("nan")])
def test_a_planner_candidate_refuses_a_utility_that_is_not_a_finite_number_naming_it(utility) -> None:
    with pytest.raises(ValueError, match=r"utility of candidate 'web' must be finite, got"):
        Candidate("web", 0.9, utility=utility)
