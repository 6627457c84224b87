"""``PlanExecutor(costs=...)`` keeps the mapping it is given (a router's executor reads its costs live
from the tool profiles): a cost changed to NaN or below 0 after the executor was made was charged,
and the run's results and total carried it (``cost=nan``). Each run's start now checks the costs
its plan may charge, as the constructor does, before any tool runs."""

from __future__ import annotations

import math

import pytest

from toolrouter.executor import PlanExecutor
from toolrouter.models import TaskStep
from toolrouter.planner import Candidate, assign_tools, build_task_graph

PLAN = assign_tools(build_task_graph([TaskStep(step_id="s", capability="s")]), {"s": [Candidate("a", 0.9, cost=0.1)]})


@pytest.mark.parametrize("bad", [math.nan, -1.0, math.inf])
def test_a_cost_changed_to_a_bad_value_is_refused_before_any_tool_runs(bad: float) -> None:
    calls: list[str] = []
    costs = {"a": 1.0}
    with PlanExecutor({"a": lambda request: calls.append("a") or "done"}, costs=costs) as executor:
        costs["a"] = bad
        with pytest.raises(ValueError, match=rf"costs\['a'\].*{bad}"):
            executor.run(PLAN)
        assert calls == []
        costs["a"] = 2.0  # the next run charges the cost as it is then
        run = executor.run(PLAN)
        assert run.succeeded and [a.cost for a in run.attempts] == [2.0] and calls == ["a"]
