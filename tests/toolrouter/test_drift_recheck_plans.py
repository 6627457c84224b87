"""A due recheck runs in a plan of several steps too, where the planner re-chooses every step's
tool by its candidates' scores: the rechecked tool scores as a tool never tried."""

from __future__ import annotations

import math

import numpy as np
import pytest

from toolrouter import ExecutionResult, TaskProfile, ToolMetaLearner, ToolProfile

TOOLS = [
    ToolProfile(tool_id="good", capabilities=("search",), expected_latency_s=0.0),
    ToolProfile(tool_id="rare", capabilities=("search",), expected_latency_s=0.0),
    ToolProfile(tool_id="summary", capabilities=("summarize",), expected_latency_s=0.0),
]


@pytest.mark.parametrize("policy", ["gaussian_ts", "beta_ts"])
def test_a_recheck_in_a_plan_of_two_steps_calls_the_tool(policy: str) -> None:
    router = ToolMetaLearner(TOOLS, seed=0, policy=policy, drift_detection={"recheck_after": 20})
    rng = np.random.default_rng(0)
    scores = []
    for i in range(300):
        task = TaskProfile(task_id=f"t{i}", task_type="news", required_capabilities=["search", "summarize"])
        plan = router.optimize_task_execution(task)
        results = []
        for step in plan.steps:
            ok = bool(rng.random() < (0.5 if step.tool_id == "rare" else 0.9))
            results.append(ExecutionResult(tool_id=step.tool_id, step=step.step, success=ok, quality=float(ok)))
            if step.tool_id == "rare":
                scores.append(step.choice.score)
        router.learn_from_execution(task, results)
    rare = router.tool_statistics()["rare"]
    # every recheck counted ran the tool (the planner used to put the policy's favourite back)
    assert rare.rechecks >= 10 and rare.calls >= rare.rechecks, (rare.calls, rare.rechecks)
    assert scores.count(math.inf) == rare.rechecks


def test_a_recheck_the_budget_leaves_out_stays_due_until_a_plan_can_run_it() -> None:
    # "pricey" is due a recheck at every plan under a budget it does not fit: the recheck used to
    # be taken as made (due again only a full recheck_after later, and its tool's next outcome,
    # whenever it came, learned as the recheck's); it now runs in the first plan the budget allows
    tools = [
        ToolProfile(tool_id="cheap", capabilities=("search",), expected_latency_s=0.0, cost_per_use=0.1),
        ToolProfile(tool_id="pricey", capabilities=("search",), expected_latency_s=0.0, cost_per_use=5.0),
    ]
    router = ToolMetaLearner(tools, seed=0, drift_detection={"recheck_after": 10})
    rng = np.random.default_rng(0)

    def run(i: int, max_cost: float | None) -> str:
        task = TaskProfile(task_id=f"t{i}", task_type="news", required_capabilities=["search"], max_cost=max_cost)
        step = router.optimize_task_execution(task).steps[0]
        ok = bool(rng.random() < (0.9 if step.tool_id == "cheap" else 0.6))
        cost = 0.1 if step.tool_id == "cheap" else 5.0
        router.learn_from_execution(task, [ExecutionResult(tool_id=step.tool_id, step=step.step, success=ok, quality=float(ok), cost=cost)])
        return step.tool_id

    for i in range(40):
        run(i, None)
    rechecks = router.tool_statistics()["pricey"].rechecks
    assert [run(i, 1.0) for i in range(40, 65)] == ["cheap"] * 25  # pricey never fits
    assert router.tool_statistics()["pricey"].rechecks == rechecks
    assert run(65, None) == "pricey"  # the overdue recheck, the moment the budget allows it
    assert router.tool_statistics()["pricey"].rechecks == rechecks + 1
