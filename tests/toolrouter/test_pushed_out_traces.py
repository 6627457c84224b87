"""A trace pushed out of the open ones (more than ``max_open_traces`` open at once) may still be in
flight: its next attempt was refused (its parents were no steps of a new trace: the outcome was
lost to the store and the policies) and its close as unfinished was ignored (its partial structure
stayed counted, and no close reached the store). As many again stay known by id: an attempt
reopens one, a close applies, in this router and in one replaying or resuming from its store."""

from __future__ import annotations

from toolrouter import ExecutionResult, TaskProfile, ToolMetaLearner, ToolProfile
from toolrouter.store import MemoryStore, TraceClose
from toolrouter.structure import StructureConfig, StructureModel, TraceStep

TOOLS = [ToolProfile(tool_id="web", capabilities=["search"]), ToolProfile(tool_id="calc", capabilities=["analysis"])]
TASK = TaskProfile(task_id="t", task_type="research")


def router(store) -> ToolMetaLearner:
    return ToolMetaLearner(TOOLS, seed=0, store=store, structure=StructureModel(config=StructureConfig(max_open_traces=2)))


def search(r: ToolMetaLearner, trace_id: str, task_type: str = "research") -> None:
    r.learn_from_execution(TaskProfile(task_id=trace_id, task_type=task_type), [ExecutionResult(tool_id="web", step="search", success=True)], trace_id=trace_id)


def push_out(r: ToolMetaLearner, *trace_ids: str) -> None:
    for t in trace_ids:
        search(r, t, "other")


def test_a_pushed_out_trace_takes_its_next_attempt_and_its_close_as_unfinished() -> None:
    store = MemoryStore()
    r = router(store)
    search(r, "A")
    push_out(r, "B", "C")
    assert r.trace_steps("A")  # still known
    r.learn_from_execution(TASK, [ExecutionResult(tool_id="calc", step="analysis", success=True, depends_on=["search"])], trace_id="A")
    assert [a.step for a in store.attempts() if a.trace_id == "A"] == ["search", "analysis"]
    assert r.tool_statistics("research")["calc"].calls == 1
    assert r.structures.traces("research") == 1 and "search -> analysis" in r.structures.summary("research")["dependencies"]
    push_out(r, "D", "E")
    assert r.close_trace("A", finished=False)
    assert r.structures.traces("research") == 0  # the partial trace teaches nothing
    assert [(c.trace_id, c.finished) for c in store.log() if isinstance(c, TraceClose)] == [("A", False)]
    replayed = router(store)
    assert replayed.structures.traces("research") == 0 and replayed.structures.traces("other") == 4


def test_a_pushed_out_trace_stays_closable_after_a_save_and_load() -> None:
    store = MemoryStore()
    r = router(store)
    search(r, "A")
    push_out(r, "B", "C")
    r.save()
    resumed = router(store)
    assert resumed.trace_steps("A") and resumed.structures.traces("research") == 1
    assert resumed.close_trace("A", finished=False) and resumed.structures.traces("research") == 0


def test_a_state_saved_before_traces_were_pushed_out_loads() -> None:
    saved = StructureModel(config=StructureConfig(max_open_traces=2))
    for t in ("A", "B", "C"):
        saved.observe(t, "research", TraceStep("search", "search"))
    state, arrays = saved.state()
    assert [t["trace_id"] for t in state["evicted"]] == ["A"]
    del state["evicted"]  # as written before: the trace pushed out was forgotten
    model = StructureModel(config=StructureConfig(max_open_traces=2))
    model.load_state(state, arrays)
    assert model.open_steps("B") and model.open_steps("C") and not model.open_steps("A")
    assert model.traces("research") == 3
