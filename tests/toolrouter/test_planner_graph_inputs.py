"""``check_capabilities``, ``parallel_stages`` and ``critical_path_latency`` refuse what they
cannot read in the project's words: a cycle failed in networkx's ("Graph contains a cycle or graph
changed during iteration"), a list of steps or tool ids in Python's ("'str' object has no
attribute 'capabilities'"), and a step without a capability, which ``assign_tools`` plans as a step
any tool may serve, was refused as needing the capability None."""

from __future__ import annotations

import networkx as nx
import pytest

from toolrouter.errors import CyclicTaskGraphError, NoToolForCapabilityError
from toolrouter.models import TaskStep, ToolProfile
from toolrouter.planner import Candidate, assign_tools, check_capabilities, critical_path_latency, parallel_stages

CYCLE = nx.DiGraph([("a", "b"), ("b", "a")])
TOOL = ToolProfile(tool_id="web", capabilities=["search"])


@pytest.mark.parametrize("call", [
    lambda: parallel_stages(CYCLE),
    lambda: critical_path_latency(CYCLE, {"a": 1.0, "b": 1.0}),
])
def test_a_cycle_is_refused_naming_its_steps(call) -> None:
    with pytest.raises(CyclicTaskGraphError, match=r"^steps: dependencies form a cycle a -> b -> a$"):
        call()


@pytest.mark.parametrize("call", [
    lambda: parallel_stages([TaskStep(step_id="a", capability="search")]),
    lambda: critical_path_latency(["a"], {"a": 1.0}),
    lambda: check_capabilities(["a"], [TOOL]),
])
def test_a_graph_that_is_not_a_digraph_is_refused(call) -> None:
    with pytest.raises(TypeError, match=r"^graph: expected a networkx.DiGraph from build_task_graph, got list$"):
        call()


@pytest.mark.parametrize(("tools", "message"), [
    (["web"], r"^tools\[0\]: expected a ToolProfile, got 'web'$"),
    ({"web": TOOL}, r"^tools: expected a list of ToolProfile, got \{'web': "),
    (TOOL, r"^tools: expected a list of ToolProfile, got ToolProfile\("),
    (None, r"^tools: expected a list of ToolProfile, got None$"),
])
def test_tools_that_are_not_tool_profiles_are_refused(tools, message) -> None:
    graph = nx.DiGraph()
    graph.add_node("a", capability="search")
    with pytest.raises(TypeError, match=message):
        check_capabilities(graph, tools)
    check_capabilities(graph, [TOOL])


def test_a_step_without_a_capability_is_checked_as_assign_tools_plans_it() -> None:
    graph = nx.DiGraph()
    graph.add_node("a")
    check_capabilities(graph, [TOOL])  # any tool serves it
    assert assign_tools(graph, {"a": [Candidate("web", 0.9)]}).steps["a"].capability == "*"
    with pytest.raises(NoToolForCapabilityError, match=r"^step 'a': no tools are registered$"):
        check_capabilities(graph, [])
    assert parallel_stages(graph) == [["a"]]
