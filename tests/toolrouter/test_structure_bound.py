"""``StructureConfig.max_structures`` bounds the distinct structures kept per task type: beyond it
the least useful is dropped with its counts, unless an open trace is counted with it."""

import pytest
from pydantic import ValidationError

from toolrouter.structure import StructureModel, TraceStep


def _chain(model: StructureModel, trace_id: str, *capabilities: str, task_type: str = "misc", close: bool = True) -> None:
    for i, c in enumerate(capabilities):
        model.observe(trace_id, task_type, TraceStep(f"s{i}", c, (f"s{i - 1}",) if i else ()))
    if close:
        model.close(trace_id)


def _structures(model: StructureModel, task_type: str = "misc") -> list[tuple[str | None, ...]]:
    return sorted(tuple(s.capability for s in p.steps) for p in model.distribution(task_type, top=None) if p.traces)


def test_the_least_useful_structure_is_dropped_beyond_the_bound() -> None:
    model = StructureModel(config={"max_structures": 2})
    for i, caps in enumerate([("a",), ("a",), ("b",), ("c", "d")]):
        _chain(model, f"t{i}", *caps)
        model.traces()  # counted one by one, as a router that plans between them
    assert _structures(model) == [("a",), ("c", "d")]
    assert model.traces("misc") == 3  # "b"'s trace went with it
    config, _ = model.state()
    assert len(config["structures"]) == 2  # forgotten: no task type counts it
    # another type's own bound: "b" counted there is kept there
    _chain(model, "x", "b", task_type="other")
    assert _structures(model, "other") == [("b",)] and model.traces() == 4


def test_free_form_traces_stay_within_the_bound() -> None:
    model = StructureModel(config={"max_structures": 8})
    for i in range(60):
        _chain(model, f"t{i}", *[f"c{(i >> b) & 1}{b}" for b in range(6)])
    assert model.traces("misc") == 8 and len(model.state()[0]["structures"]) == 8


def test_a_structure_an_open_trace_is_counted_with_stays_beside_the_bound_until_it_closes() -> None:
    model = StructureModel(config={"max_structures": 1})
    _chain(model, "open", "a", close=False)
    _chain(model, "t0", "b")
    assert _structures(model) == [("a",), ("b",)]  # "open" may still get steps
    model.observe("open", "misc", TraceStep("s1", "c", ("s0",)))  # its recount moves it off "a"
    assert _structures(model) == [("a", "c"), ("b",)]
    model.close("open")
    assert _structures(model) == [("a", "c")] and model.traces("misc") == 1


def test_a_state_saved_with_more_structures_loads_within_the_bound() -> None:
    saver = StructureModel()
    for i, caps in enumerate([("a",), ("a",), ("b",), ("c",)]):
        _chain(saver, f"t{i}", *caps)
    model = StructureModel(config={"max_structures": 2})
    model.load_state(*saver.state())
    assert _structures(model) == [("a",), ("c",)] and model.traces("misc") == 3


@pytest.mark.parametrize("value", [0, -1, 1.5, True])
def test_a_bound_that_is_not_a_positive_count_is_refused(value: object) -> None:
    with pytest.raises(ValidationError, match="max_structures"):
        StructureModel(config={"max_structures": value})


def test_a_type_held_beyond_the_bound_comes_back_within_it_once_its_trace_closes_and_a_saved_copy_agrees() -> None:
    model = StructureModel(config={"max_structures": 1})
    _chain(model, "open", "a", close=False)
    _chain(model, "t0", "b")
    _chain(model, "t1", "b")
    model.traces()
    model.close("open")
    assert _structures(model) == [("b",)]  # "a" went at the read after "open" closed
    copy = StructureModel(config={"max_structures": 1})
    copy.load_state(*model.state())
    assert model.distribution("misc", request="b") == copy.distribution("misc", request="b")


def test_a_one_call_trace_counted_with_a_dropped_structure_is_counted_afresh() -> None:
    model = StructureModel(config={"max_structures": 1})
    model.observe("call:0", "misc", TraceStep("s0", "a"))
    model.traces()
    _chain(model, "t0", "b")
    _chain(model, "t1", "b")
    model.traces()  # "a" dropped with its trace's count
    model.observe("call:0", "misc", TraceStep("s1", "c", ("s0",)))  # written in two parts
    model.traces()  # the new "a -> c" is on probation: "b" goes
    assert model.traces("misc") == 1 and _structures(model) == [("a", "c")]
    sizes = model.state()[0]["sizes"]
    assert sorted(sizes) == [[1, 1, 2], [1, 2, 1]]  # "b" twice, "a -> c" once: the call trace's "a" went


# --- max_task_types: the task types kept ---------------------------------------------------------
def test_the_least_useful_task_type_is_dropped_beyond_the_bound_and_the_newest_stays() -> None:
    # a caller passing a new task type per request grew the model (and its saved state) without end
    model = StructureModel(config={"max_task_types": 2})
    for i, task_type in enumerate(["a", "a", "b", "c", "d"]):
        _chain(model, f"t{i}", task_type, task_type=task_type)
        model.traces()
    assert model.task_types == ["a", "d"]  # "b", then "c": one trace each, the earliest; "d" new
    assert model.traces() == 3 and model.traces("b") == 0
    config, _ = model.state()
    assert list(config["counts"]) == ["a", "d"] and len(config["structures"]) == 2  # theirs forgotten
    free_form = StructureModel(config={"max_task_types": 8})
    for i in range(100):
        _chain(free_form, f"t{i}", "a", task_type=f"request {i}")
    assert len(free_form.task_types) == 8 and len(free_form.state()[0]["counts"]) == 8


def test_a_task_type_an_open_trace_is_counted_with_stays_beside_the_bound_until_it_closes() -> None:
    model = StructureModel(config={"max_task_types": 1})
    _chain(model, "open", "a", task_type="first", close=False)
    _chain(model, "t0", "b", task_type="second")
    assert model.task_types == ["first", "second"]  # "open" may still get steps
    model.close("open")
    assert model.task_types == ["second"]


def test_a_reloaded_model_drops_the_task_types_the_live_one_does() -> None:
    live = StructureModel(config={"max_task_types": 3})
    for i, task_type in enumerate(["x", "y", "x", "z"]):
        _chain(live, f"t{i}", "a", task_type=task_type)
    copy = StructureModel(config={"max_task_types": 3})
    copy.load_state(*live.state())
    for model in (live, copy):
        for i, task_type in enumerate(["w", "y", "v"]):
            _chain(model, f"u{i}", "b", task_type=task_type)
    assert live.task_types == copy.task_types == ["x", "y", "v"]
    # saved with a larger bound: the most useful ("x", two traces; "y" came back with one) and
    # the newest stay
    small = StructureModel(config={"max_task_types": 2})
    small.load_state(*live.state())
    assert small.task_types == ["x", "v"]
    # a router's saved config from before the bound takes the default
    saved = StructureModel().config.model_dump()
    del saved["max_task_types"]
    assert StructureModel(config=saved).config.max_task_types == 4096


def test_a_task_type_whose_traces_all_failed_since_is_not_kept() -> None:
    import gc
    from collections import Counter

    def counters() -> int:
        gc.collect()
        return sum(isinstance(o, Counter) for o in gc.get_objects())

    # the objects made before are frozen: neither collected nor listed again (in a whole run's heap,
    # listing them took seconds); the Counters the model makes are all made after
    gc.collect()
    gc.freeze()
    try:
        model = StructureModel()
        before = counters()
        for i in range(200):  # counted, then a failed step that ends it uncounts it
            _chain(model, f"t{i}", "a", task_type=f"type {i}", close=False)
            model.traces()
            model.observe(f"t{i}", f"type {i}", TraceStep("s1", "b", ("s0",)), succeeded=False)
            model.close(f"t{i}")
            model.traces()
        after = counters()
    finally:
        gc.unfreeze()
    assert model.task_types == [] and after - before < 20  # an empty count per type was kept


@pytest.mark.parametrize("value", [0, -1, 1.5, True])
def test_a_task_type_bound_that_is_not_a_positive_count_is_refused(value: object) -> None:
    with pytest.raises(ValidationError, match="max_task_types"):
        StructureModel(config={"max_task_types": value})
