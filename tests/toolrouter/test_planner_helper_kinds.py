"""``critical_path_latency`` and ``plan_objective`` name an argument of the wrong kind: latencies
or tools given as a list were searched for the step ids, and each step was reported missing
("latency_s: no latency for step 'a'"); a list of steps in place of the graph was reported as a
step without a tool."""

from __future__ import annotations

import pytest

from toolrouter.models import UtilityWeights
from toolrouter.planner import Candidate, build_task_graph, critical_path_latency, plan_objective

GRAPH = build_task_graph([{"step_id": "a", "capability": "x"}])


@pytest.mark.parametrize("call, message", [
    (lambda: critical_path_latency(GRAPH, [1.0]), r"^latency_s: expected a mapping of step id to values, got list$"),
    (lambda: critical_path_latency(GRAPH, None), r"^latency_s: expected a mapping of step id to values, got NoneType$"),
    (lambda: plan_objective(GRAPH, [Candidate("t", 0.5)], UtilityWeights()),
     r"^chosen: expected a mapping of step id to values, got list$"),
    (lambda: plan_objective(["a"], {}, UtilityWeights()), r"^graph: expected a networkx.DiGraph .*, got list$"),
])
def test_an_argument_of_the_wrong_kind_is_named(call, message) -> None:
    with pytest.raises(TypeError, match=message):
        call()


def test_arguments_of_the_right_kind_still_give_the_totals() -> None:
    assert critical_path_latency(GRAPH, {"a": 2.0}) == 2.0
    assert plan_objective(GRAPH, {"a": Candidate("t", 0.5)}, UtilityWeights())[1:] == (0.5, 0.0, 0.0)
