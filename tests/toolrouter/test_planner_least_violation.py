"""``allow_infeasible=True``: a budget no plan meets gives the plan that exceeds it least."""

from __future__ import annotations

import pytest

from toolrouter.planner import Candidate, assign_tools, build_task_graph
from toolrouter.models import TaskStep


@pytest.mark.parametrize("method", ["auto", "exact", "brute_force"])
def test_the_plan_over_both_budgets_is_the_one_that_exceeds_them_least(method: str) -> None:
    # two steps side by side, cost and latency both at most 1: no plan comes near. Relative
    # excesses (cost, latency): a+c 5+3, a+d 7+0, b+c 4+3, b+d 6+0: b+d exceeds them least.
    graph = build_task_graph([TaskStep(step_id="left", capability="x"), TaskStep(step_id="right", capability="x")])
    candidates = {
        "left": [Candidate("a", 0.5, cost=4.0, latency_s=0.0), Candidate("b", 0.5, cost=3.0, latency_s=1.0)],
        "right": [Candidate("c", 0.9, cost=2.0, latency_s=4.0), Candidate("d", 0.9, cost=4.0, latency_s=1.0)],
    }
    plan = assign_tools(graph, candidates, max_cost=1.0, max_latency_s=1.0, method=method, allow_infeasible=True)
    assert not plan.feasible and plan.tools() == {"left": "b", "right": "d"}
    assert (plan.expected_cost, plan.critical_path_latency_s) == (7.0, 1.0)


def test_among_plans_that_exceed_the_budget_equally_the_better_one_is_chosen() -> None:
    # cost alone binds: every plan costs 2, over a budget of 1; the more reliable tool wins
    graph = build_task_graph([TaskStep(step_id="only", capability="x")])
    candidates = {"only": [Candidate("shaky", 0.2, cost=2.0, latency_s=3.0), Candidate("solid", 0.9, cost=2.0, latency_s=3.0)]}
    plan = assign_tools(graph, candidates, max_cost=1.0, max_latency_s=1.0, method="exact", allow_infeasible=True)
    assert not plan.feasible and plan.tools() == {"only": "solid"}
