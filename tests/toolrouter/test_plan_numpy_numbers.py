"""A plan made of numpy numbers (a policy's float32 draws, numpy counts) writes strict JSON: the
numbers were checked, but kept as they were, and ``to_json`` failed on them
("Object of type float32 is not JSON serializable")."""

from __future__ import annotations

import numpy as np

from toolrouter.plan import ExecutionPlan, PlanStep, PlanStructure, ToolChoice


def test_a_plan_of_numpy_numbers_writes_json_and_reads_back_equal() -> None:
    f = np.float32
    choice = ToolChoice("web", f(1.0), f(1.0), f(0.5), f(0.25), np.int64(1))
    plan = ExecutionPlan.from_steps(
        "t", "research", [PlanStep("search", "search", (choice,))], max_cost=f(2.0), max_latency_s=np.int64(3),
        structure=PlanStructure("learned", f(0.5), np.int64(1), np.int64(2)),
    )
    text = plan.to_json()
    assert ExecutionPlan.from_json(text) == plan
    c = plan.step("search").choice
    assert all(type(x) is float for x in (c.score, c.predicted_success, c.predicted_latency_s, plan.max_cost, plan.max_latency_s))
    assert (plan.structure.probability, plan.structure.traces) == (0.5, 1) and type(plan.structure.traces) is int
