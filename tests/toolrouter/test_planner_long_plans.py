"""Plans of many steps: the exact search goes one level per step, and must not be bounded by
Python's recursion limit."""

from __future__ import annotations

import sys

from toolrouter.models import TaskStep, UtilityWeights
from toolrouter.planner import Candidate, assign_tools, build_task_graph


def test_branch_and_bound_finds_the_best_plan_of_more_steps_than_the_recursion_limit() -> None:
    # Two parallel steps, each fast but less reliable or slow and reliable: changing one alone
    # only makes the plan worse, so the fast plan's local search stops there and branch and bound
    # must reach the best plan (both slow), through every later step of a long chain.
    n = sys.getrecursionlimit() + 200
    steps = [TaskStep(step_id="a", capability="c"), TaskStep(step_id="b", capability="c")]
    steps += [
        TaskStep(step_id=f"x{i:05d}", capability="c", depends_on=[f"x{i - 1:05d}"] if i else ["a", "b"])
        for i in range(n)
    ]
    pair = [Candidate("fast", 0.9, latency_s=0.1), Candidate("slow", 0.99, latency_s=1.0)]
    candidates = {"a": pair, "b": pair} | {f"x{i:05d}": [Candidate("only", 1.0)] for i in range(n)}
    weights = UtilityWeights(latency=0.3)

    fast_plan = assign_tools(build_task_graph(steps[:3]), candidates, weights=weights, method="lagrangian")
    assert fast_plan.tools()["a"] == "fast"  # what the search starts from

    plan = assign_tools(build_task_graph(steps), candidates, weights=weights)

    assert plan.optimal and plan.method == "exact"
    assert (plan.tools()["a"], plan.tools()["b"]) == ("slow", "slow")
    assert abs(plan.expected_utility - (2 * 0.99**2 - 0.3 * 1.0)) < 1e-9
