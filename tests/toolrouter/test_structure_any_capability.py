"""A learned step of capability ``"*"`` (``ANY_CAPABILITY``) is the step any tool serves, as a
declared ``"*"`` step is: it was learned under a capability no tool lists, so never proposed."""

import numpy as np
import pytest

from toolrouter.structure import StructureModel, TraceStep


def _search_then_any(model: StructureModel, capability: str, traces: int = 3) -> None:
    for i in range(traces):
        model.observe(f"t{i}", "research", TraceStep("search", "search"))
        model.observe(f"t{i}", "research", TraceStep("any", capability, ("search",)))


def test_a_learned_any_capability_step_is_proposed_as_the_any_tool_step() -> None:
    model = StructureModel()
    _search_then_any(model, "*")
    assert TraceStep("any", "*").capability is None
    plan = model.propose("research", capabilities={"search": ""})
    assert plan.source == "learned" and plan.traces == 3
    assert [(s.step, s.capability, s.depends_on) for s in plan.steps] == [
        ("search", "search", ()), ("any", None, ("search",))
    ]


def test_the_any_capability_is_refused_among_the_available_capabilities() -> None:
    model = StructureModel()
    _search_then_any(model, "*")
    with pytest.raises(ValueError, match=r"capabilities: '\*' is the capability of a step any tool serves"):
        model.propose("research", capabilities=["search", "*"])


def test_a_state_saved_with_any_capability_structures_loads_them_as_any_tool_steps() -> None:
    # a state as saved when "*" was a capability of its own, beside the same structure of None
    saver = StructureModel()
    for i in range(2):
        saver.observe(f"a{i}", "research", TraceStep("search", "search"), request="find papers")
        saver.observe(f"a{i}", "research", TraceStep("any", "star", ("search",)), request="find papers")
    saver.observe("n0", "research", TraceStep("search", "search"), request="find papers")
    saver.observe("n0", "research", TraceStep("main", None, ("search",)), request="find papers")
    state, arrays = saver.state()
    for s in state["structures"]:
        s["capabilities"] = ["*" if c == "star" else c for c in s["capabilities"]]
    state["text_capabilities"] = ["*" if c == "star" else c for c in state["text_capabilities"]]
    for t in state["open"]:
        t["steps"] = [[step, "*" if c == "star" else c, parents] for step, c, parents in t["steps"]]
    model = StructureModel()
    model.load_state(state, arrays)
    assert model.traces("research") == 3
    plan = model.propose("research", capabilities={"search": ""})
    assert [(s.capability, s.depends_on != ()) for s in plan.steps] == [("search", False), (None, True)]
    assert plan.traces == 3
    config, saved = model.state()
    assert len(config["structures"]) == 1 and "*" not in config["text_capabilities"]
    # the two structures' request sums are one row now: three traces of "find papers"
    np.testing.assert_allclose(saved["by_structure"][0][-1], 3.0)
