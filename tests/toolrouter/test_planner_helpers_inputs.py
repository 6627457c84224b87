"""``critical_path_latency`` and ``plan_objective`` check what they are given: a NaN or negative
latency was summed into a critical path that came out wrong without a word (a NaN dropped out of
the maximum), and a missing step, bad weights or a NaN value failed in Python's words or not at all."""

from __future__ import annotations

import math

import pytest

from toolrouter.models import TaskStep, UtilityWeights
from toolrouter.planner import Candidate, build_task_graph, critical_path_latency, plan_objective

GRAPH = build_task_graph([TaskStep(step_id="a", capability="c"), TaskStep(step_id="b", capability="c", depends_on=["a"])])
CHOSEN = {"a": Candidate("x", 0.5, latency_s=1.0), "b": Candidate("y", 0.5, latency_s=2.0)}


@pytest.mark.parametrize(("latency", "error", "message"), [
    (math.nan, ValueError, r"^latency_s\['b'\]: expected a finite number >= 0, got nan$"),
    (-5.0, ValueError, r"^latency_s\['b'\]: expected a finite number >= 0, got -5.0$"),
    ("2", ValueError, r"^latency_s\['b'\]: expected a finite number >= 0, got '2'$"),
    (None, KeyError, r"latency_s: no latency for step 'b'"),
])
def test_critical_path_latency_names_a_bad_latency(latency, error, message) -> None:
    latencies = {"a": 1.0} if latency is None else {"a": 1.0, "b": latency}
    with pytest.raises(error, match=message):
        critical_path_latency(GRAPH, latencies)
    assert critical_path_latency(GRAPH, {"a": 1.0, "b": 2.0}) == 3.0


@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda: plan_objective(GRAPH, {"a": CHOSEN["a"]}, UtilityWeights()), KeyError, r"chosen: no tool for step 'b'"),
    (lambda: plan_objective(GRAPH, {**CHOSEN, "b": "y"}, UtilityWeights()), TypeError, r"^chosen\['b'\]: expected a Candidate, got 'y'$"),
    (lambda: plan_objective(GRAPH, CHOSEN, None), TypeError, r"^weights: expected UtilityWeights, got None$"),
    (lambda: plan_objective(GRAPH, CHOSEN, UtilityWeights(), value=math.nan), ValueError, r"^value: expected a finite number >= 0, got nan$"),
])
def test_plan_objective_names_a_bad_argument(call, error, message) -> None:
    with pytest.raises(error, match=message):
        call()
    assert plan_objective(GRAPH, CHOSEN, UtilityWeights(), value=2.0)[1:] == (0.25, 0.0, 3.0)
