"""A ``Candidate`` takes its numbers as any real number (a policy's numpy float32 draw, an int),
held as floats: a float32 success probability of 0.5 was refused as "must be finite"."""

from __future__ import annotations

import json

import numpy as np
import pytest

from toolrouter.models import TaskStep
from toolrouter.planner import Candidate, assign_tools, build_task_graph


@pytest.mark.parametrize("number", [np.float32(0.5), np.float16(0.5), np.float64(0.5), np.int64(0), 1])
def test_numpy_and_int_numbers_are_held_as_floats(number) -> None:
    c = Candidate("web", number, cost=number, latency_s=number, utility=number, quality=number)
    numbers = (c.success_prob, c.cost, c.latency_s, c.utility, c.quality)
    assert all(type(x) is float for x in numbers) and numbers == (float(number),) * 5
    assert json.loads(json.dumps(c.to_dict()))["success_prob"] == float(number)


def test_a_plan_of_float32_predictions_is_made_and_bad_ones_are_still_refused() -> None:
    graph = build_task_graph([TaskStep(step_id="search", capability="search")])
    plan = assign_tools(graph, {"search": [Candidate("web", np.float32(0.9), cost=np.float32(0.25))]}, max_cost=0.5)
    assert plan.tools() == {"search": "web"} and plan.expected_cost == 0.25
    for bad in (np.float32("nan"), True, "0.5"):
        with pytest.raises(ValueError, match=r"^success_prob of candidate 'web' must be finite, got "):
            Candidate("web", bad)
