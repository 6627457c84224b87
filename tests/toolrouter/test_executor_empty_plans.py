"""A plan without steps is refused, naming what is wrong, before anything runs: an
``ExecutionPlan`` made without ``from_steps`` was refused as not being an ``ExecutionPlan``
("expected an ExecutionPlan or a planner Assignment, got ExecutionPlan"), and an ``Assignment``
emptied of its steps ran nothing and came back succeeded."""

from __future__ import annotations

import dataclasses

import networkx as nx
import pytest

from toolrouter.errors import TaskGraphError
from toolrouter.executor import PlanExecutor, PlanRun
from toolrouter.plan import ExecutionPlan
from toolrouter.planner import Candidate, assign_tools, build_task_graph


def one_step_assignment():
    graph = build_task_graph([{"step_id": "a", "capability": "search"}])
    return assign_tools(graph, {"a": [Candidate("web", 0.9)]})


@pytest.mark.parametrize("plan", [
    ExecutionPlan("t", "qa", nx.DiGraph()),
    dataclasses.replace(one_step_assignment(), steps={}),
])
def test_a_plan_without_steps_is_refused(plan) -> None:
    called = []
    with PlanExecutor({"web": called.append}) as executor:
        run = PlanRun()
        with pytest.raises(TaskGraphError, match=r"^plan: a plan needs at least one step, got none$"):
            executor.run(plan, run=run)
        assert called == [] and run == PlanRun()
        assert executor.run(one_step_assignment()).succeeded and len(called) == 1
