"""Under a budget, a step's fallbacks that fit in what the plan leaves of it come first: pricier
ones of more utility took every place, and an enforced budget skipped them all while a cheaper
tool would have fit."""

from toolrouter import TaskProfile, ToolMetaLearner, ToolProfile
from toolrouter.executor import ExecutorConfig, PlanExecutor, RetryPolicy
from toolrouter.models import TaskStep, UtilityWeights
from toolrouter.plan import ExecutionPlan, PlanStep, ToolChoice
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



def test_the_routers_plan_falls_back_within_its_budget_first():
    router = ToolMetaLearner([
        ToolProfile(tool_id="cheap", capabilities=["s"], cost_per_use=0.2, reliability=0.6),
        ToolProfile(tool_id="pricey", capabilities=["s"], cost_per_use=5.0, reliability=0.99),
        ToolProfile(tool_id="spare", capabilities=["s"], cost_per_use=0.3, reliability=0.5),
    ], seed=0)
    task = TaskProfile(task_id="t", required_capabilities=["s"], max_cost=1.0, weights=WEIGHTS)
    plan = router.optimize_task_execution(task)
    chosen = plan.steps[0].tool_id  # not pricey: alone it costs more than the budget

    def broken(request):
        raise RuntimeError("down")

    router.functions.update({t: broken if t == chosen else (lambda request: "ok") for t in ("cheap", "pricey", "spare")})
    config = ExecutorConfig(max_fallbacks=1, retry=RetryPolicy(max_retries=0), circuit_breaker=None)
    run = router.execute(task, plan=plan, config=config).run
    # one fallback allowed, and not enforce_budget: the pricey tool of most utility came first
    assert run.succeeded and run.steps["s"].tool_id not in (chosen, "pricey") and run.total_cost <= 1.0


def test_a_fallback_skipped_over_budget_leaves_its_place_to_the_next():
    def broken(request):
        raise RuntimeError("down")

    steps = [PlanStep("s", "s", tuple(
        ToolChoice(tool_id, 0.5, 0.5, 0.9, cost, 0.1) for tool_id, cost in (("a", 0.5), ("b", 5.0), ("c", 0.3))
    ))]
    plan = ExecutionPlan.from_steps("t", "x", steps, max_cost=1.0)
    config = ExecutorConfig(enforce_budget=True, max_fallbacks=1, retry=RetryPolicy(max_retries=0), circuit_breaker=None)
    with PlanExecutor({"a": broken, "b": lambda request: "b", "c": lambda request: "c"}, config) as executor:
        run = executor.run(plan)
    assert run.outputs == {"s": "c"} and run.steps["s"].skipped_tools == [("b", "over budget")]
