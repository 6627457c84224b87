"""``UtilityWeights.model_copy(update=...)`` checks the update as construction does: pydantic's copy
checked none of it, and a router takes weights it is given as they are, so ``cost=-1`` scored an
outcome higher the more it cost and ``cost="0.2"`` failed only when an outcome was scored."""

from __future__ import annotations

import pytest

from toolrouter import ToolMetaLearner, ToolProfile, UtilityWeights


@pytest.mark.parametrize(
    ("update", "message"),
    [
        ({"cost": -1.0}, r"cost\n  Input should be greater than or equal to 0"),
        ({"latency": float("inf")}, r"latency must be finite, got inf"),
        ({"success": 6e8, "quality": 6e8}, r"expected success \+ quality <= 1e\+09"),
        ({"cost": "0.2"}, r"cost: expected a number, not a str, got '0.2'"),
        ({"success": True}, r"success: expected a number, not a bool, got True"),
        ({"costs": 0.5}, r"costs\n  Extra inputs are not permitted"),
    ],
)
def test_a_bad_update_is_refused_naming_the_field(update, message) -> None:
    weights = UtilityWeights(cost=0.2)
    with pytest.raises(ValueError, match=message):
        weights.model_copy(update=update)
    assert weights == UtilityWeights(cost=0.2)


def test_a_good_update_is_taken_as_construction_takes_it() -> None:
    weights = UtilityWeights(cost=0.2)
    copy = weights.model_copy(update={"latency": 1})
    assert copy == UtilityWeights(cost=0.2, latency=1.0) and type(copy.latency) is float
    assert copy.model_fields_set == {"cost", "latency"}
    assert weights.model_copy() == weights and weights.model_copy(deep=True) == weights
    router = ToolMetaLearner([ToolProfile(tool_id="a")], weights=copy)
    assert router.weights.latency == 1.0
