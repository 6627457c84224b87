"""The router plans multi-step tasks under budget with the planner, and its plans can be looked at."""

from __future__ import annotations

import json

import pytest

from toolrouter import ToolMetaLearner
from toolrouter.errors import BudgetInfeasibleError
from toolrouter.models import TaskProfile, TaskStep, ToolProfile
from toolrouter.plan import ExecutionPlan
from toolrouter.planner import CyclicTaskGraphError

STEPS = [
    TaskStep(step_id="search", capability="search"),
    TaskStep(step_id="fetch_a", capability="fetch", depends_on=["search"]),
    TaskStep(step_id="fetch_b", capability="fetch", depends_on=["search"]),
    TaskStep(step_id="summarise", capability="llm", depends_on=["fetch_a", "fetch_b"]),
]


def router(**kwargs) -> ToolMetaLearner:
    tools = [
        ToolProfile(tool_id="premium_search", capabilities=["search"], cost_per_use=2.0, reliability=0.99,
                    expected_latency_s=0.5),
        ToolProfile(tool_id="free_search", capabilities=["search"], cost_per_use=0.0, reliability=0.8,
                    expected_latency_s=1.0),
        ToolProfile(tool_id="fast_fetch", capabilities=["fetch"], cost_per_use=0.5, reliability=0.95,
                    expected_latency_s=0.2),
        ToolProfile(tool_id="slow_fetch", capabilities=["fetch"], cost_per_use=0.1, reliability=0.9,
                    expected_latency_s=3.0),
        ToolProfile(tool_id="big_llm", capabilities=["llm"], cost_per_use=3.0, reliability=0.97,
                    expected_latency_s=2.0),
        ToolProfile(tool_id="small_llm", capabilities=["llm"], cost_per_use=0.2, reliability=0.85,
                    expected_latency_s=0.5),
    ]
    return ToolMetaLearner(tools, seed=0, **kwargs)


def test_multi_step_plan_meets_cost_and_critical_path_budgets() -> None:
    r = router()
    for max_cost, max_latency in ((1.5, None), (10.0, 3.0), (1.0, 4.5)):
        task = TaskProfile(task_id="t", task_type="research", steps=STEPS, max_cost=max_cost,
                           max_latency_s=max_latency)
        plan = r.optimize_task_execution(task)
        assert plan.metadata["planner"]["feasible"]
        assert plan.expected_cost <= max_cost + 1e-9
        assert max_latency is None or plan.expected_latency_s <= max_latency + 1e-9
        assert plan.within_budget
        for step in plan:  # every other candidate stays as a fallback
            assert len(step.candidates) == 2
    cheap = r.optimize_task_execution(TaskProfile(task_id="t", task_type="research", steps=STEPS, max_cost=1.0))
    assert cheap.tool_for("search") == "free_search" and cheap.tool_for("summarise") == "small_llm"


def test_impossible_budget_raises_or_is_flagged() -> None:
    r = router()
    task = TaskProfile(task_id="t", task_type="research", steps=STEPS, max_cost=0.05)
    with pytest.raises(BudgetInfeasibleError, match="max_cost=0.05"):
        r.optimize_task_execution(task)
    plan = r.optimize_task_execution(task, allow_infeasible=True)
    assert plan.metadata["planner"]["feasible"] is False and not plan.within_budget


def test_templates_give_steps_to_tasks_that_name_none() -> None:
    r = router()
    r.register_template("research", STEPS)
    plan = r.optimize_task_execution(TaskProfile(task_id="t", task_type="research"))
    assert plan.topological_order()[0] == "search" and len(plan) == 4
    assert plan.stages() == [["search"], ["fetch_a", "fetch_b"], ["summarise"]]
    with pytest.raises(CyclicTaskGraphError):
        r.register_template("loop", [{"step_id": "a", "capability": "llm", "depends_on": ["b"]},
                                     {"step_id": "b", "capability": "llm", "depends_on": ["a"]}])
    assert "loop" not in r.graphs.templates


def test_saved_router_keeps_its_templates(tmp_path) -> None:
    r = router()
    r.register_template("research", STEPS)
    r.save(tmp_path / "router.safetensors")
    loaded = ToolMetaLearner.load(tmp_path / "router.safetensors")
    assert [s.step_id for s in loaded.graphs.templates["research"]] == [s.step_id for s in STEPS]


def test_plan_exports_json_dot_and_mermaid() -> None:
    plan = router().optimize_task_execution(
        TaskProfile(task_id="t1", task_type="research", steps=STEPS, max_cost=5.0))
    again = ExecutionPlan.from_json(plan.to_json())
    assert again.to_dict() == plan.to_dict() and json.loads(plan.to_json())["task_id"] == "t1"
    assert again.metadata["planner"]["feasible"] is True
    path = plan.critical_path()
    assert path[0] == "search" and path[-1] == "summarise" and len(path) == 3
    dot = plan.to_dot()
    assert dot.startswith('digraph "t1" {') and dot.rstrip().endswith("}")
    assert '"search" -> "fetch_a"' in dot and dot.count("->") == 4
    assert f"{plan.tool_for('search')}: p=" in dot and "fallbacks:" in dot
    assert "style=bold" in dot  # the critical path
    mermaid = plan.to_mermaid()
    assert mermaid.splitlines()[0] == "flowchart LR"
    assert mermaid.count("-->") == 4 and "s0 --> s1" in mermaid


def test_a_budget_met_only_by_the_middle_tool_on_every_parallel_branch_is_planned() -> None:
    # The cheapest plan (every branch slow) breaks the latency limit and the fastest (every branch
    # dear) the cost limit; every branch on the middle tool meets both. Single moves from a plan
    # with slow branches cannot shorten them all: the plan has to be found from the fastest one.
    tools = [ToolProfile(tool_id=name, capabilities=["c"], cost_per_use=cost, expected_latency_s=latency)
             for name, cost, latency in (("slow", 1.0, 0.3), ("mid", 2.0, 0.2), ("fast", 3.0, 0.1))]
    steps = [TaskStep(step_id=f"s{i}", capability="c") for i in range(20)]
    for seed in range(3):
        plan = ToolMetaLearner(tools, seed=seed).optimize_task_execution(
            TaskProfile(task_id="t", steps=steps, max_cost=41.0, max_latency_s=0.25)
        )
        assert plan.within_budget and plan.metadata["planner"]["feasible"]
