"""``assign_tools`` reads each step's candidates once, as any iterable, and refuses a single
candidate or a string or mapping in place of a list, naming the step: a generator was spent by the
checks and failed in numpy's words, a lone candidate as "'Candidate' object is not iterable"."""

from __future__ import annotations

import pytest

from toolrouter.models import TaskStep
from toolrouter.planner import Candidate, assign_tools, build_task_graph

GRAPH = build_task_graph([TaskStep(step_id="search", capability="search")])
WEB, WIKI = Candidate("web", 0.9, cost=1.0), Candidate("wiki", 0.8, cost=0.1)


def test_candidates_given_as_a_generator_are_planned() -> None:
    plan = assign_tools(GRAPH, {"search": (c for c in (WEB, WIKI))}, max_cost=0.5)
    assert plan.tools() == {"search": "wiki"} and plan.steps["search"].fallbacks == (WEB,)


@pytest.mark.parametrize("given", [WEB, "web", {"web": WEB}, 5])
def test_a_step_whose_candidates_are_not_a_list_is_named(given) -> None:
    with pytest.raises(TypeError, match=r"^candidates\['search'\]: expected a list of Candidate, got "):
        assign_tools(GRAPH, {"search": given})
