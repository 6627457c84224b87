"""Names and parents a structure model's saved state could not hold are refused where they enter."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolrouter import ExecutionResult, TaskProfile, ToolMetaLearner, ToolProfile
from toolrouter.errors import CorruptStateError
from toolrouter.store.base import AttemptRecord
from toolrouter.structure import StructureModel, TraceStep


def test_names_and_parents_no_saved_state_holds_are_refused_and_nothing_is_recorded() -> None:
    # each was recorded, then the model's (and its router's) saved state was refused as corrupt
    model = StructureModel()
    model.observe("t0", "research", TraceStep("search", "search"))
    for call, error, message in [
        (lambda: TraceStep("a", ""), TypeError, r"capability: expected a non-empty string, got ''"),
        (lambda: TraceStep("a", "  "), TypeError, r"capability: expected a non-empty string"),
        (lambda: TraceStep("a", "s\ud800"), ValueError, r"capability: expected text a store can keep"),
        (lambda: TraceStep("a\x00", "s"), ValueError, r"step: expected text a store can keep"),
        (lambda: TraceStep("b", "s", ("a", "a")), ValueError, r"depends_on: expected other steps than 'b', each once"),
        (lambda: TraceStep("b", "s", ("b",)), ValueError, r"depends_on: expected other steps than 'b'"),
        (lambda: model.observe("t1", " ", TraceStep("a", "s")), TypeError, r"task_type: expected a non-empty string"),
        (lambda: model.observe("t\ud800", "research", TraceStep("a", "s")), ValueError, r"trace_id: expected text a store"),
    ]:
        with pytest.raises(error, match=message):
            call()
    assert model.traces() == 1 and model.open_steps("t1") == ()
    StructureModel().load_state(*model.state())


def test_a_saved_state_with_such_a_name_is_corrupt() -> None:
    state = {"structures": [{"names": [" "], "capabilities": ["s"], "parents": [[]]}], "counts": {"t": [[0, 1]]}}
    with pytest.raises(CorruptStateError, match=r"state.structures\[0\].names\[0\]"):
        StructureModel().load_state(state, {})


def test_a_router_without_a_store_refuses_a_trace_id_it_could_not_load_back(tmp_path: Path) -> None:
    router = ToolMetaLearner([ToolProfile(tool_id="web", capabilities=["search"])], seed=0)
    task = TaskProfile(task_id="t", task_type="research")
    with pytest.raises(ValueError, match="trace_id: expected text a store can keep"):
        router.learn_from_execution(task, [ExecutionResult(tool_id="web", step="search", success=True)], trace_id="x\ud800")
    assert router.structures.traces() == 0
    router.save(tmp_path / "r.safetensors")
    ToolMetaLearner.load(tmp_path / "r.safetensors")


def test_sync_skips_a_hand_appended_step_no_trace_can_hold() -> None:
    router = ToolMetaLearner([ToolProfile(tool_id="web", capabilities=["search"])], seed=0, store="memory://")
    router.store.append([
        AttemptRecord(task_id="x", task_type="research", step="b", capability="search", tool_id="web", success=True,
                      quality=1.0, cost=0.0, latency_s=0.0, utility=1.0, writer="another", trace_id="r1",
                      depends_on=("a", "a"))
    ])  # fmt: skip
    router.sync()  # the policy learns from it; the structure model skips it
    assert router.tool_statistics()["web"].calls == 1 and router.structures.traces() == 0
