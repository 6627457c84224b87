"""``chain_steps`` numbers a repeated capability past the names already taken, as the router names
the steps of ``required_capabilities``: counted per capability, ``["a", "a_2", "a"]`` named two
steps ``a_2`` and failed in pydantic's words ("step 'a_2' cannot depend on itself")."""

from __future__ import annotations

import pytest

from toolrouter import TaskProfile, ToolMetaLearner, ToolProfile
from toolrouter.planner import TaskGraphLibrary, chain_steps


def test_a_capability_named_like_a_numbered_step_takes_the_next_number() -> None:
    steps = chain_steps(["a", "a_2", "a"])
    assert [(s.step_id, s.capability, s.depends_on) for s in steps] == [
        ("a", "a", ()), ("a_2", "a_2", ("a",)), ("a_3", "a", ("a_2",)),
    ]
    assert [s.step_id for s in chain_steps(["a", "a", "a_2"])] == ["a", "a_2", "a_2_2"]


def test_the_library_and_the_router_name_such_a_chain_alike() -> None:
    task = TaskProfile(task_id="t", required_capabilities=["a", "a_2", "a"])
    graph = TaskGraphLibrary().graph_for(task)
    router = ToolMetaLearner([ToolProfile(tool_id="x", capabilities=["a", "a_2"])], seed=0)
    plan = router.optimize_task_execution(task)
    assert plan.topological_order() == list(graph) == ["a", "a_2", "a_3"]


def test_capabilities_are_numbered_as_the_steps_hold_them_stripped() -> None:
    # " a" was not taken by "a": the step named " a", stripped to "a", depended on itself
    steps = chain_steps(["a", " a"])
    assert [(s.step_id, s.capability, s.depends_on) for s in steps] == [("a", "a", ()), ("a_2", "a", ("a",))]
    with pytest.raises(ValueError, match=r"^capabilities\[1\] must be a non-empty string, got ' '$"):
        chain_steps(["a", " "])
