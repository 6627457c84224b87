"""A bool inside the features a router's own calls are given is refused as inside a task's
(``TaskProfile.features``), naming its index: ``real_array`` read ``True`` as 1.0, so the same
value was refused one way and learned from the other."""

from __future__ import annotations

import numpy as np
import pytest

from toolrouter import ExecutionResult, ToolMetaLearner, ToolProfile


def _router(contextual: bool) -> ToolMetaLearner:
    context = {"policy": "linucb", "context_dim": 2} if contextual else {}
    return ToolMetaLearner([ToolProfile(tool_id="a", capabilities=["search"])], seed=0, **context)


@pytest.mark.parametrize("contextual", [False, True])
@pytest.mark.parametrize("features", [[True, 0.5], np.array([0.5, True], dtype=object), np.array([True, False])])
def test_a_bool_inside_features_is_refused_and_nothing_is_learned(contextual: bool, features) -> None:
    router = _router(contextual)
    with pytest.raises(ValueError, match=r"features\[\d\]: expected a number, not a bool, got True"):
        router.rank_tool_ids("search", features=features)
    with pytest.raises(ValueError, match=r"features\[\d\]: expected a number, not a bool, got True"):
        router.record_attempt(ExecutionResult(tool_id="a", success=True), capability="search", features=features)
    assert router.tool_statistics()["a"].calls == 0


@pytest.mark.parametrize("contextual", [False, True])
def test_numbers_are_still_taken(contextual: bool) -> None:
    router = _router(contextual)
    assert list(router.rank_tool_ids("search", features=np.array([1.0, 0.5]))) == ["a"]
    router.record_attempt(ExecutionResult(tool_id="a", success=True), capability="search", features=[1, np.int64(2)])
