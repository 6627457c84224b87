"""``StructureModel.summary`` names the step any tool may serve ``DEFAULT_STEP``, apart from a
capability that happens to be called "None"."""

from toolrouter.structure import DEFAULT_STEP, StructureModel, TraceStep


def test_the_any_tool_step_is_not_counted_as_a_capability_called_none() -> None:
    model = StructureModel()
    model.observe("t0", "misc", TraceStep("main", None, ()))
    model.observe("t1", "misc", TraceStep("a", "None", ()))
    model.observe("t2", "misc", TraceStep("main", None, ()))
    model.observe("t2", "misc", TraceStep("b", "None", ("main",)))
    summary = model.summary("misc")
    assert summary["traces"] == 3
    assert {c: v["traces"] for c, v in summary["capabilities"].items()} == {DEFAULT_STEP: 2, "None": 2}
    assert {e: v["traces"] for e, v in summary["dependencies"].items()} == {f"{DEFAULT_STEP} -> None": 1}
