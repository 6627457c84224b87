"""An Assignment's steps are read-only, and it still pickles and copies."""

import copy
import dataclasses
import pickle

import pytest

from toolrouter.models import TaskStep
from toolrouter.planner import Assignment, Candidate, assign_tools, build_task_graph


def assignment() -> Assignment:
    graph = build_task_graph([TaskStep(step_id="search", capability="search"),
                              TaskStep(step_id="answer", capability="llm", depends_on=["search"])])
    return assign_tools(graph, {"search": [Candidate("web", 0.9, cost=0.1), Candidate("wiki", 0.8, cost=0.1)],
                                "answer": [Candidate("llm", 0.9, cost=0.5)]})


def test_a_step_cannot_be_replaced_or_removed():
    plan = assignment()
    with pytest.raises(TypeError):
        plan.steps["search"] = plan.steps["answer"]
    with pytest.raises(AttributeError):
        plan.steps.pop("search")
    assert plan.tools() == {"search": "web", "answer": "llm"}


def test_the_callers_dict_edited_later_changes_nothing():
    plan = assignment()
    steps = dict(plan.steps)
    made = dataclasses.replace(plan, steps=steps)
    del steps["answer"]
    assert made.order == ["search", "answer"]


@pytest.mark.parametrize(
    "clone", [lambda a: pickle.loads(pickle.dumps(a)), copy.copy, copy.deepcopy], ids=["pickle", "copy", "deepcopy"]
)
def test_copies_keep_the_steps_read_only(clone):
    plan = assignment()
    other = clone(plan)
    assert other.steps == plan.steps and other.expected_utility == plan.expected_utility
    assert other.tools() == plan.tools() and other.stages() == plan.stages()
    with pytest.raises(TypeError):
        other.steps["search"] = plan.steps["answer"]
