"""enforce_budget admits a call at the cost the plan predicts for it, as the planner judged the
plan: a router's executor admitted each call at its profile's cost_per_use, so a tool that reports
costing less than its profile was planned within the budget and then skipped as over it."""

from toolrouter import ExecutionResult, TaskProfile, ToolMetaLearner, ToolProfile
from toolrouter.executor import ExecutorConfig, PlanExecutor, StepStatus, ToolOutput
from toolrouter.plan import ExecutionPlan, PlanStep, ToolChoice

BUDGET = ExecutorConfig(enforce_budget=True, circuit_breaker=None)


def test_a_tool_cheaper_than_its_profile_runs_within_the_budget_it_was_planned_in():
    router = ToolMetaLearner([ToolProfile(tool_id="web", capabilities=["search"], cost_per_use=5.0)], seed=0)
    router.functions["web"] = lambda request: ToolOutput("pages", cost=0.2)
    search = TaskProfile(task_id="w", required_capabilities=["search"])
    for _ in range(12):  # what it reports, learned: it is predicted to cost less than 1
        router.learn_from_execution(search, [ExecutionResult(tool_id="web", step="search", success=True, cost=0.2)])
    task = TaskProfile(task_id="t", required_capabilities=["search"], max_cost=1.0)
    run = router.execute(task, "bees", config=BUDGET)
    assert run.plan.metadata["planner"]["feasible"] and run.plan.expected_cost <= 1.0
    assert run.run.steps["search"].status is StepStatus.SUCCEEDED and run.total_cost == 0.2


def test_a_call_the_plan_predicts_over_the_budget_is_still_skipped():
    plan = ExecutionPlan.from_steps(
        "t", "qa", [PlanStep("search", "search", (ToolChoice("web", 0.5, 0.5, 0.9, 2.0, 0.1),))], max_cost=1.0
    )
    with PlanExecutor({"web": lambda request: "pages"}, BUDGET, costs={"web": 0.5}) as executor:
        run = executor.run(plan)
    assert run.steps["search"].skipped_tools == [("web", "over budget")] and run.total_cost == 0
