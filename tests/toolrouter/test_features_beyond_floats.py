"""An integer beyond any float among features is refused as no finite number, naming the field:
numpy's cast raised a bare OverflowError, which pydantic passed on as it was (``TaskProfile``) and
a routed call's caller met with no field named."""

from __future__ import annotations

from fractions import Fraction

import pytest

from toolrouter import TaskProfile, ToolMetaLearner, ToolProfile
from toolrouter._checks import real_array


@pytest.mark.parametrize("features", [[10**400], [1, -(10**400)], [0.5, Fraction(10**400, 3)]])
def test_an_integer_beyond_floats_is_refused_naming_the_field(features) -> None:
    with pytest.raises(ValueError, match=r"features: expected finite real numbers, got \["):
        TaskProfile(task_id="t", features=features)
    router = ToolMetaLearner([ToolProfile(tool_id="a", capabilities=["s"])], policy="lin_ts", policy_options={"context_dim": len(features)})
    with pytest.raises(ValueError, match=r"features: expected finite real numbers"):
        router.rank_tool_ids("s", features=features)
    with pytest.raises(TypeError, match=r"x: expected finite real numbers"):
        real_array("x", features, error=TypeError)


def test_large_integers_within_floats_are_still_taken() -> None:
    assert real_array("features", [2**64, 1]).tolist() == [2.0**64, 1.0]
    assert TaskProfile(task_id="t", features=[10**300]).features == (1e300,)
