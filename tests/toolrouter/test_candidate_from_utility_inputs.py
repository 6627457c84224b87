"""``Candidate.from_utility`` computed with its numbers before checking them: a string or ``None``
failed in Python's words (``must be real number, not str``, ``unsupported operand type(s)``),
naming no field, and ``utility=True`` was taken for 1.0, which ``Candidate`` itself refuses. Each
is now refused as ``Candidate`` refuses it, naming the field and the value."""

from __future__ import annotations

import numpy as np
import pytest

from toolrouter.models import UtilityWeights
from toolrouter.planner import Candidate

GOOD = {"utility": 0.5, "cost": 0.1, "latency_s": 0.2, "quality": 1.0}


@pytest.mark.parametrize("name", list(GOOD))
@pytest.mark.parametrize("bad", ["0.5", None, True, float("nan")])
def test_a_bad_number_is_refused_naming_its_field(name: str, bad: object) -> None:
    given = {**GOOD, name: bad}
    utility = given.pop("utility")
    with pytest.raises(ValueError, match=rf"^{name} of candidate 't' must be finite, got {bad!r}$"):
        Candidate.from_utility("t", utility, weights=UtilityWeights(), **given)


def test_numpy_and_int_numbers_are_held_as_floats() -> None:
    made = Candidate.from_utility("t", np.float32(0.5), cost=0, latency_s=np.float64(0.0), weights=UtilityWeights())
    assert made == Candidate("t", 0.25, 0.0, 0.0, utility=0.5)
    assert all(type(v) is float for v in (made.utility, made.cost, made.latency_s, made.quality))
