"""Two plans are equal when they describe the same steps, tools, predictions, budgets, structure
and metadata: the dataclass comparison compared the ``networkx`` graphs by identity, so a plan was
equal neither to its JSON round trip nor to a copy of itself."""

from __future__ import annotations

import copy
import dataclasses

from toolrouter import TaskProfile, ToolMetaLearner, ToolProfile
from toolrouter.plan import ExecutionPlan, PlanStep, ToolChoice

WEB = ToolChoice("web", score=1.0, expected_utility=0.5, predicted_success=0.9, predicted_cost=0.1, predicted_latency_s=1.0)


def test_a_plan_equals_its_copies_and_round_trips() -> None:
    router = ToolMetaLearner([ToolProfile(tool_id=t, capabilities=["search"]) for t in ("web", "wiki")], seed=0)
    plan = router.optimize_task_execution(TaskProfile(task_id="t", required_capabilities=["search", "search"], max_cost=5))

    assert plan == ExecutionPlan.from_json(plan.to_json())
    assert plan == copy.deepcopy(plan)
    assert plan != plan.to_dict()


def test_plans_that_differ_are_not_equal() -> None:
    steps = [PlanStep("search", "search", (WEB,))]
    plan = ExecutionPlan.from_steps("t", "research", steps)

    assert plan == ExecutionPlan.from_steps("t", "research", list(steps))
    assert plan != ExecutionPlan.from_steps("t", "research", steps, max_cost=1.0)
    assert plan != ExecutionPlan.from_steps("t", "research", [PlanStep("search", "search", (dataclasses.replace(WEB, predicted_cost=0.2),))])
    other = copy.deepcopy(plan)
    other.metadata["run"] = 2
    assert plan != other
