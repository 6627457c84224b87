"""A plan's dependencies are held once: the graph's edges are its steps' ``depends_on``. An edge
added to ``plan.graph`` by hand changed the stages and the critical path but not the run (the
executor reads ``depends_on``: the step ran without the output it was shown to need), and a node
added without a step made ``plan.steps`` raise a bare ``KeyError: 'plan_step'``."""

from __future__ import annotations

import networkx as nx
import pytest

from toolrouter.errors import CyclicTaskGraphError, TaskGraphError
from toolrouter.plan import ExecutionPlan, PlanStep, ToolChoice


def choice(tool_id: str) -> tuple[ToolChoice, ...]:
    return (ToolChoice(tool_id, 0.5, 0.5, 0.9, 0.1, 0.1),)


def two_steps() -> ExecutionPlan:
    return ExecutionPlan.from_steps("t", "qa", [PlanStep("a", "x", choice("ta")), PlanStep("b", "y", choice("tb"))])


@pytest.mark.parametrize("edit", [
    lambda g: g.add_edge("a", "b"),
    lambda g: g.add_node("z"),
    lambda g: g.remove_node("a"),
])
def test_the_graph_of_a_plan_cannot_be_edited_apart_from_its_steps(edit) -> None:
    plan = two_steps()
    with pytest.raises(nx.NetworkXError, match="Frozen graph"):
        edit(plan.graph)
    assert plan.stages() == [["a", "b"]] and [s.step for s in plan.steps] == ["a", "b"]


def test_a_graph_that_disagrees_with_its_steps_is_refused_naming_the_step() -> None:
    graph = nx.DiGraph()
    graph.add_node("a", plan_step=PlanStep("a", "x", choice("ta")))
    graph.add_node("b", plan_step=PlanStep("b", "y", choice("tb")))
    graph.add_edge("a", "b")
    with pytest.raises(TaskGraphError, match=r"^graph: step 'b' depends on \[\], its edges come from \['a'\]$"):
        ExecutionPlan("t", "qa", graph)
    graph.remove_edge("a", "b")  # refused: the graph was left as it was, editable
    graph.add_node("c")
    with pytest.raises(TaskGraphError, match=r"^graph: node 'c' holds no PlanStep of that name, got None$"):
        ExecutionPlan("t", "qa", graph)


def test_a_graph_that_agrees_with_its_steps_is_taken() -> None:
    graph = nx.DiGraph()
    graph.add_node("a", plan_step=PlanStep("a", "x", choice("ta")))
    graph.add_node("b", plan_step=PlanStep("b", "y", choice("tb"), depends_on=("a",)))
    graph.add_edge("a", "b")
    plan = ExecutionPlan("t", "qa", graph)
    assert plan.stages() == [["a"], ["b"]] and plan == ExecutionPlan.from_steps("t", "qa", plan.steps)


def test_a_graph_with_a_cycle_is_refused_naming_its_steps() -> None:
    # .steps, the totals and the stages failed on it in networkx's words ("Graph contains a cycle")
    graph = nx.DiGraph()
    graph.add_node("a", plan_step=PlanStep("a", "x", choice("ta"), depends_on=("b",)))
    graph.add_node("b", plan_step=PlanStep("b", "y", choice("tb"), depends_on=("a",)))
    graph.add_edges_from([("a", "b"), ("b", "a")])
    with pytest.raises(CyclicTaskGraphError, match=r"cycle (a -> b -> a|b -> a -> b)$"):
        ExecutionPlan("t", "qa", graph)
