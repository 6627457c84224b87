"""Under a budget, a step's fallbacks that fit in what the plan leaves of it come first: pricier
ones of more utility took every place, and an enforced budget skipped them all while a cheaper
tool would have fit."""

from toolrouter.executor import ExecutorConfig, PlanExecutor, RetryPolicy
from toolrouter.models import TaskStep, UtilityWeights
from toolrouter.planner import Candidate, assign_tools, build_task_graph

GRAPH = build_task_graph([TaskStep(step_id="s", capability="s")])
CANDIDATES = {"s": [
    Candidate("cheap", 0.9, cost=0.2),
    *(Candidate(f"pricey{i}", 0.99, cost=5.0) for i in range(3)),
    Candidate("spare", 0.5, cost=0.3),
]}
WEIGHTS = UtilityWeights(cost=0.01)  # the pricey tools have the most utility


def test_fallbacks_that_fit_the_budget_come_first_then_by_utility():
    plan = assign_tools(GRAPH, CANDIDATES, max_cost=1.0, weights=WEIGHTS, max_fallbacks=3)
    assert plan.steps["s"].tool_ids == ("cheap", "spare", "pricey0", "pricey1")
    unbounded = assign_tools(GRAPH, CANDIDATES, weights=WEIGHTS, max_fallbacks=3)
    assert unbounded.steps["s"].tool_ids == ("pricey0", "pricey1", "pricey2", "cheap")


def test_an_enforced_budget_runs_the_fallback_that_fits():
    def broken(request):
        raise RuntimeError("down")

    plan = assign_tools(GRAPH, CANDIDATES, max_cost=1.0, weights=WEIGHTS, max_fallbacks=3)
    tools = {"cheap": broken, "spare": lambda request: "ok", **{f"pricey{i}": lambda request: "ok" for i in range(3)}}
    config = ExecutorConfig(enforce_budget=True, retry=RetryPolicy(max_retries=0), circuit_breaker=None)
    with PlanExecutor(tools, config) as executor:
        run = executor.run(plan)
    assert run.succeeded and run.steps["s"].tool_id == "spare" and run.total_cost == 0.5
