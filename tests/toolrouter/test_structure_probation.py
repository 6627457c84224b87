"""A task type full at ``StructureConfig.max_structures`` still learns a new structure: its newest
``max(1, max_structures // 8)`` are on probation, never dropped, so that a new one (one trace, the
fewest) may recur. Without it, once every kept structure had two traces each new one was dropped at
once and the type kept proposing its old plans."""

from toolrouter.structure import StructureModel, TraceStep

CAPABILITIES = ["a", "b", "c", "d", "e"]


def _chain(model: StructureModel, trace_id: str, *capabilities: str) -> None:
    for i, c in enumerate(capabilities):
        model.observe(trace_id, "misc", TraceStep(f"s{i}", c, (f"s{i - 1}",) if i else ()))
    model.close(trace_id)


def _structures(model: StructureModel) -> list[tuple[str | None, ...]]:
    return sorted(tuple(s.capability for s in p.steps) for p in model.distribution("misc", top=None) if p.traces)


def _full(max_structures: int, old: list[tuple[str, ...]]) -> StructureModel:
    """A model whose type holds ``old``, each run twice (one by one, as a router plans between)."""
    model = StructureModel(config={"max_structures": max_structures})
    for i, caps in enumerate(old * 2):
        _chain(model, f"old{i}", *caps)
        model.traces()
    return model


def test_a_new_structure_of_a_full_type_is_learned_and_proposed() -> None:
    model = _full(3, [("a", "b"), ("b", "c"), ("c", "a")])
    _chain(model, "new0", "d", "e")
    # "d -> e" admitted: the least useful of the older ones goes (the earliest among equals)
    assert _structures(model) == [("b", "c"), ("c", "a"), ("d", "e")]
    for i in range(1, 3):
        _chain(model, f"new{i}", "d", "e")
    assert model.traces("misc") == 7
    proposal = model.propose("misc", capabilities=CAPABILITIES)
    assert [s.capability for s in proposal.steps] == ["d", "e"]
    assert (proposal.source, proposal.traces) == ("learned", 3)


def test_a_new_structure_stays_until_as_many_newer_ones_as_probation_holds_were_learned() -> None:
    old = [(f"o{i}", f"p{i}") for i in range(16)]
    model = _full(16, old)  # probation: 16 // 8 = 2
    _chain(model, "new", "d", "e")
    _chain(model, "x0", "x0")
    assert ("d", "e") in _structures(model)  # one newer: still on probation
    _chain(model, "x1", "x1")
    assert ("d", "e") not in _structures(model)  # two newer: the least useful of the older ones
    assert len(_structures(model)) == 16 and set(old[2:]) <= set(_structures(model))


def test_free_form_traces_pass_through_probation_and_leave_the_structures_that_recur() -> None:
    old = [("a", "b"), ("b", "c"), ("c", "a"), ("a", "c")]
    model = _full(8, old)
    for i in range(40):
        _chain(model, f"x{i}", f"x{i}", "a")
    kept = _structures(model)
    assert len(kept) == 8 and set(old) <= set(kept) and ("x39", "a") in kept


def test_a_reloaded_model_keeps_and_drops_what_the_live_one_does() -> None:
    model = _full(3, [("a", "b"), ("b", "c"), ("c", "a")])
    _chain(model, "new0", "d", "e")  # on probation when saved
    copy = StructureModel(config={"max_structures": 3})
    copy.load_state(*model.state())
    for m in (model, copy):
        _chain(m, "new1", "e", "a")  # "d -> e", one trace, is now the least useful of the older ones
        _chain(m, "new2", "e", "a")
    assert _structures(copy) == _structures(model) == [("b", "c"), ("c", "a"), ("e", "a")]
    assert copy.distribution("misc", capabilities=CAPABILITIES) == model.distribution("misc", capabilities=CAPABILITIES)
    assert copy.propose("misc", capabilities=CAPABILITIES) == model.propose("misc", capabilities=CAPABILITIES)
