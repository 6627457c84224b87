"""With ``enforce_budget``, a call that costs nothing is made even once the run has spent its
budget: it cannot take the run over it. A tool that reported more than it was planned to cost left
the run over budget, and every free tool after it was skipped as "over budget", its step failed."""

from __future__ import annotations

from toolrouter.executor import ExecutorConfig, PlanExecutor, RetryPolicy, RunStatus, ToolOutput
from toolrouter.plan import ExecutionPlan, PlanStep, ToolChoice

CONFIG = ExecutorConfig(timeout_s=1.0, retry=RetryPolicy(max_retries=0), circuit_breaker=None, enforce_budget=True)


def choice(tool_id: str, cost: float) -> ToolChoice:
    return ToolChoice(tool_id, 0.5, 0.5, 0.9, cost, 0.1)


def test_a_free_call_is_made_after_the_run_went_over_its_budget() -> None:
    plan = ExecutionPlan.from_steps("t", "qa", [
        PlanStep("search", "search", (choice("web", 0.5),)),
        PlanStep("answer", "llm", (choice("local", 0.0),), ("search",)),
        PlanStep("polish", "llm", (choice("paid", 0.1),), ("search",)),
    ], max_cost=1.0)
    tools = {"web": lambda request: ToolOutput("pages", cost=1.5), "local": lambda request: "answer",
             "paid": lambda request: "polished"}
    with PlanExecutor(tools, CONFIG) as executor:
        run = executor.run(plan)
    assert run.outputs == {"search": "pages", "answer": "answer"}
    assert run.status is RunStatus.PARTIAL and run.total_cost == 1.5
    assert run.steps["polish"].skipped_tools == [("paid", "over budget")]  # a paid call still is not made
