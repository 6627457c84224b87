"""A plan the router made reads back from its description: a tool never tried (UCB1 without a
prior) or rechecked by drift detection is scored +inf, and ``from_json`` refused that plan's own
``to_json`` as holding a score that is not finite."""

from __future__ import annotations

import dataclasses
import math

import pytest

from toolrouter import TaskProfile, ToolMetaLearner, ToolProfile
from toolrouter.plan import ExecutionPlan, PlanStep, ToolChoice

WEB = ToolChoice("web", score=1.0, expected_utility=0.5, predicted_success=0.9, predicted_cost=0.1, predicted_latency_s=1.0)


def test_a_plan_with_an_untried_tool_reads_back_from_its_json() -> None:
    tools = [ToolProfile(tool_id=t, capabilities=["search"]) for t in ("a", "b")]
    router = ToolMetaLearner(tools, policy="ucb1", seed=0, prior_fn=lambda *_: None)
    plan = router.optimize_task_execution(TaskProfile(task_id="t", required_capabilities=["search"]))
    assert plan.steps[0].choice.score == math.inf  # never tried: tried first

    back = ExecutionPlan.from_json(plan.to_json())

    assert back.to_dict() == plan.to_dict()
    assert ExecutionPlan.from_dict(plan.to_dict()).steps[0].ranked_tool_ids == plan.steps[0].ranked_tool_ids


def test_only_a_score_may_be_plus_infinity() -> None:
    plan = ExecutionPlan.from_steps("t", "research", [PlanStep("search", "search", (dataclasses.replace(WEB, score=math.inf),))])
    assert plan.steps[0].choice.score == math.inf
    for field, value in (("score", -math.inf), ("expected_utility", math.inf), ("predicted_cost", math.inf)):
        with pytest.raises(ValueError, match=rf"\['{field}'\]: expected a finite number"):
            ExecutionPlan.from_steps("t", "research", [PlanStep("search", "search", (dataclasses.replace(WEB, **{field: value}),))])
