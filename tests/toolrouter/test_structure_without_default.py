"""``StructureModel.propose(include_default=False)`` never proposes the one-step default: None when
there is nothing else to propose."""

from __future__ import annotations

from toolrouter.structure import DEFAULT_STEP, StructureModel, TraceStep


def test_without_the_default_nothing_is_proposed_when_nothing_can_be_predicted() -> None:
    model = StructureModel()
    assert model.propose("new", capabilities=["search"], include_default=False) is None  # no trace, no text
    assert [s.step for s in model.propose("new", capabilities=["search"]).steps] == [DEFAULT_STEP]
    model.observe("t0", "research", TraceStep("search", "search", ()))
    assert model.propose("research", capabilities=[], include_default=False) is None  # no capability to use
    proposal = model.propose("research", capabilities=["search"], include_default=False)
    assert [s.capability for s in proposal.steps] == ["search"]
