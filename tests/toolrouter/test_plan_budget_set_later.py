"""A plan's fields set after it was made are checked as those given to it: a NaN or negative
budget had every call of an enforced budget skipped as "over budget", and metadata that is not a
dict was written by to_json and refused by from_json."""

import math

import networkx as nx
import numpy as np
import pytest

from toolrouter.errors import TaskGraphError
from toolrouter.executor import ExecutorConfig, PlanExecutor, RetryPolicy, RunStatus
from toolrouter.plan import ExecutionPlan, PlanStep, PlanStructure, ToolChoice


def plan() -> ExecutionPlan:
    step = PlanStep("s", "search", (ToolChoice("web", 0.5, 0.5, 0.9, 1.0, 0.1),))
    return ExecutionPlan.from_steps("t", "x", [step], max_cost=2.0, max_latency_s=3.0)


@pytest.mark.parametrize("name", ["max_cost", "max_latency_s"])
@pytest.mark.parametrize("bad", [math.nan, -1.0, 0.0, math.inf, "5", True])
def test_a_bad_budget_set_later_is_refused_naming_it(name, bad):
    p = plan()
    before = getattr(p, name)
    with pytest.raises((ValueError, TypeError), match=f"^{name}: "):
        setattr(p, name, bad)
    assert getattr(p, name) == before  # the plan keeps its own


def test_a_budget_set_later_is_held_as_a_float_and_kept_by_the_executor():
    p = plan()
    p.max_cost = np.float32(1.5)
    assert type(p.max_cost) is float and p.to_json()
    p.max_latency_s = None
    assert p.max_latency_s is None and p.within_budget
    p.max_cost = 0.5  # the call costs 1.0
    assert not p.within_budget
    config = ExecutorConfig(enforce_budget=True, retry=RetryPolicy(max_retries=0), circuit_breaker=None)
    with PlanExecutor({"web": lambda request: "page"}, config) as executor:
        run = executor.run(p)
    assert run.status is RunStatus.FAILED and run.steps["s"].skipped_tools == [("web", "over budget")]


def test_ids_and_structure_set_later_are_checked_too():
    p = plan()
    with pytest.raises(TypeError, match="^task_id: "):
        p.task_id = 7
    with pytest.raises(TypeError, match="^structure: "):
        p.structure = "learned"
    assert p.task_id == "t" and p.structure == PlanStructure()
    p.structure = PlanStructure("template")
    assert ExecutionPlan.from_dict(p.to_dict()).structure.source == "template"


@pytest.mark.parametrize("bad", [None, [("planner", {})], "notes"])
def test_metadata_that_is_not_a_dict_is_refused(bad):
    # to_json wrote it, and from_json refused the plan it described
    p = plan()
    p.metadata["note"] = "kept"
    with pytest.raises(TypeError, match="^metadata: "):
        p.metadata = bad
    with pytest.raises(TypeError, match="^metadata: "):
        ExecutionPlan("t", "x", p.graph, metadata=bad)
    assert ExecutionPlan.from_json(p.to_json()).metadata == {"note": "kept"}


def test_a_graph_swapped_in_later_is_checked_and_frozen():
    p = plan()
    loose = p.graph.copy()  # the caller's own, editable
    loose.add_node("extra")  # a node without a step
    for bad, error in ((loose, TaskGraphError), ([("s", "u")], TypeError)):
        with pytest.raises(error, match="^graph: "):
            p.graph = bad
        assert list(p.graph) == ["s"]  # the plan keeps its own
    other = plan().graph.copy()
    p.graph = other
    with pytest.raises(nx.NetworkXError, match="Frozen"):
        other.add_node("extra")
