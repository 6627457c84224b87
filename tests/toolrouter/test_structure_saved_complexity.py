"""A saved open trace's complexity is one observe takes; another is refused as corrupt."""

import pytest

from toolrouter.errors import CorruptStateError
from toolrouter.structure import StructureModel, TraceStep


def saved(complexity: str | None) -> tuple[dict, dict]:
    m = StructureModel()
    m.observe("r1", "qa", TraceStep("s", "search"), complexity="simple")
    state, arrays = m.state()
    state["open"][0]["complexity"] = complexity
    return state, arrays


def test_unknown_complexity_refused_and_nothing_changes():
    m = StructureModel()
    m.observe("kept", "qa", TraceStep("s", "search"))
    with pytest.raises(CorruptStateError, match="complexity"):
        m.load_state(*saved("bogus"))
    assert [s.step for s in m.open_steps("kept")] == ["s"] and m.open_steps("r1") == ()


@pytest.mark.parametrize("complexity", ["simple", None])
def test_known_or_none_loads(complexity):
    m = StructureModel()
    m.load_state(*saved(complexity))
    m.observe("r1", "qa", TraceStep("t", "analysis", ("s",)))
    m.close("r1")
    assert m.traces("qa") == 1
