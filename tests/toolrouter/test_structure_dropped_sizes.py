"""A structure dropped beyond ``max_structures`` leaves its traces' sizes in the size prior, the
recent one-call traces' too: a model restored from a saved state (which keeps no one-call trace)
then learns what the model that saved it does, and a recount moves a trace's size, once."""

from __future__ import annotations

from toolrouter.structure import StructureConfig, StructureModel, TraceStep


def call(model: StructureModel, trace_id: str, *steps: TraceStep) -> None:
    for step in steps:
        model.observe(trace_id, "task", step)
    model.traces()


def sizes(model: StructureModel) -> list[list[int]]:
    return sorted(model.state()[0]["sizes"])


def test_a_restored_model_drops_what_the_one_that_saved_it_does() -> None:
    model = StructureModel(config=StructureConfig(max_structures=1))
    call(model, "call:1", TraceStep("a", "a"))
    restored = StructureModel(config=model.config)
    restored.load_state(*model.state())
    for m in (model, restored):
        call(m, "call:2", TraceStep("a", "a"), TraceStep("b", "b", ("a",)))  # drops "a" alone
    assert restored.state()[0] == model.state()[0]
    assert sizes(model) == [[1, 1, 1], [1, 2, 1]]  # one trace of one step, one of two


def test_a_trace_recounted_after_its_structure_was_dropped_moves_its_size() -> None:
    model = StructureModel(config=StructureConfig(max_structures=1))
    call(model, "call:1", TraceStep("a", "a"))
    call(model, "call:2", TraceStep("c", "c"))  # drops "a"
    call(model, "call:1", TraceStep("b", "b", ("a",)))  # the rest of call:1, written apart: drops "c"
    assert sizes(model) == [[1, 1, 1], [1, 2, 1]]  # call:2 of one step, call:1 of two
