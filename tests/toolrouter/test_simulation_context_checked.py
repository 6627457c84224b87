"""A context given to a simulated tool without context weights is checked as for one with them: it
took any value (text, NaN, a matrix) without a word, and a call with it drew an outcome."""

from __future__ import annotations

import numpy as np
import pytest

from toolrouter import UtilityWeights
from toolrouter.simulation import SyntheticEnvironment


@pytest.mark.parametrize("context", ["ab", np.array([np.nan, 1.0]), np.ones((2, 2)), [[1.0], [1.0, 2.0]], 3.0])
def test_a_bad_context_is_refused_by_a_tool_that_ignores_context_and_changes_nothing(context) -> None:
    env = SyntheticEnvironment.make(n_tools=2, capabilities="search", seed=0)
    with pytest.raises(ValueError, match="context: expected a vector of finite numbers, got"):
        env.call("search_0", context=context)
    with pytest.raises(ValueError, match="context: expected a vector of finite numbers, got"):
        env.best_expected_utility("search", UtilityWeights(), context=context)
    assert env.calls == 0


def test_a_good_context_changes_nothing_for_a_tool_that_ignores_it() -> None:
    tool = SyntheticEnvironment.make(n_tools=1, capabilities="search", seed=0).tools[0]
    assert tool.success_probability(0, np.array([5.0, -2.0, 0.0])) == tool.success_probability(0) == tool.success_prob
