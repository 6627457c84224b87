"""An ``Assignment`` holds its own copy of the graph it was planned on, read-only: it held the
caller's, so a graph edited after planning (a step added for the next plan, say) changed the
stages of an assignment made before, while its steps, which the executor runs, stayed as planned."""

from __future__ import annotations

import networkx as nx
import pytest

from toolrouter.planner import Candidate, assign_tools, build_task_graph


def test_an_assignment_keeps_the_graph_it_was_planned_on() -> None:
    graph = build_task_graph([{"step_id": "a", "capability": "x"}, {"step_id": "b", "capability": "x"}])
    plan = assign_tools(graph, {s: [Candidate("t", 0.9)] for s in graph})
    graph.add_edge("a", "b")
    graph.add_node("c", capability="x")
    assert plan.stages() == [["a", "b"]] and sorted(plan.graph) == ["a", "b"]
    with pytest.raises(nx.NetworkXError, match="Frozen graph"):
        plan.graph.add_edge("a", "b")
