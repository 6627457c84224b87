"""A planner Assignment's budgets are checked as assign_tools checks them, in a copy made with
dataclasses.replace too: a NaN or negative one had every call of an enforced budget skipped as
"over budget", and a string failed the run in its first step."""

import dataclasses
import math

import numpy as np
import pytest

from toolrouter.models import TaskStep
from toolrouter.planner import Candidate, assign_tools, build_task_graph

PLAN = assign_tools(build_task_graph([TaskStep(step_id="s", capability="s")]), {"s": [Candidate("a", 0.9, cost=1.0)]},
                    max_cost=2.0, max_latency_s=3.0)


@pytest.mark.parametrize("name", ["max_cost", "max_latency_s"])
@pytest.mark.parametrize("bad", [math.nan, -1.0, 0.0, math.inf, "3", True])
def test_a_bad_budget_is_refused_naming_it(name, bad):
    with pytest.raises(ValueError, match=f"^{name}: "):
        dataclasses.replace(PLAN, **{name: bad})


def test_a_budget_is_held_as_a_float():
    plan = dataclasses.replace(PLAN, max_cost=np.float32(1.5), max_latency_s=None)
    assert type(plan.max_cost) is float and plan.max_cost == 1.5 and plan.max_latency_s is None
