"""The planner's helpers that read ``UtilityWeights`` name weights of another kind: None (what
``assign_tools`` takes as the default) failed ``candidates_from_choices`` and
``Candidate.from_utility`` as "'NoneType' object has no attribute 'success'"."""

from __future__ import annotations

import pytest

from toolrouter.models import UtilityWeights
from toolrouter.plan import ToolChoice
from toolrouter.planner import Candidate, candidates_from_choices


@pytest.mark.parametrize("call", [
    lambda weights: candidates_from_choices([ToolChoice("web", 1.0, 0.5, 0.5, 0.1, 0.1)], weights),
    lambda weights: Candidate.from_utility("web", 1.0, cost=0.1, latency_s=0.1, weights=weights),
])
def test_weights_that_are_not_utility_weights_are_refused(call) -> None:
    for weights in (None, {"cost": 1.0}):
        with pytest.raises(TypeError, match=r"^weights: expected UtilityWeights, got (None|\{'cost': 1.0\})$"):
            call(weights)
    assert call(UtilityWeights())
