"""A plan's steps cannot be replaced behind its frozen graph, nor a plan built of bad fields."""

import copy
import pickle

import networkx as nx
import pytest

from toolrouter.plan import ExecutionPlan, PlanStep, ToolChoice

CHOICE = ToolChoice("web", 0.5, 0.5, 0.9, 1.0, 0.1)


def plan() -> ExecutionPlan:
    steps = [PlanStep("a", "search", (CHOICE,)), PlanStep("b", "search", (CHOICE,), depends_on=("a",))]
    return ExecutionPlan.from_steps("t", "x", steps)


def test_step_attributes_read_only():
    p = plan()
    with pytest.raises(TypeError, match="read-only"):
        p.graph.nodes["b"]["plan_step"] = PlanStep("b", "search", (CHOICE,))
    with pytest.raises(TypeError, match="read-only"):
        p.graph.nodes["b"].update(plan_step=None)
    assert p.step("b").depends_on == ("a",)


def test_copies_and_pickles_keep_the_steps():
    p = plan()
    for other in (copy.deepcopy(p), pickle.loads(pickle.dumps(p))):
        assert other.step("b") == p.step("b")
    editable = p.graph.copy()
    editable.nodes["b"]["plan_step"] = None  # a copy is the caller's own
    assert p.step("b").depends_on == ("a",)


def test_direct_construction_checks_structure_and_budget():
    graph = nx.DiGraph()
    graph.add_node("a", plan_step=PlanStep("a", "search", (CHOICE,)))
    with pytest.raises(TypeError, match="^structure: "):
        ExecutionPlan("t", "x", graph, structure="learned")
    with pytest.raises(TypeError, match="^task_id: "):
        ExecutionPlan(7, "x", graph)
    with pytest.raises(ValueError, match="^max_cost"):
        ExecutionPlan("t", "x", graph, max_cost=-1.0)
    assert ExecutionPlan("t", "x", graph, max_latency_s=2).max_latency_s == 2.0
