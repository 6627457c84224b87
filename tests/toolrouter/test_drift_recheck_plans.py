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
