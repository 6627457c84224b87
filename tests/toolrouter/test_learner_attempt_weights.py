"""An attempt's utility weights: UtilityWeights or a mapping of its fields, as the router and the
middleware take them; anything else is refused naming ``weights``, and nothing is recorded."""

import pytest

from toolrouter import ExecutionResult, ToolMetaLearner, ToolProfile, UtilityWeights

RESULT = ExecutionResult(tool_id="a", step="search", success=True, quality=0.5)


def _router() -> ToolMetaLearner:
    return ToolMetaLearner([ToolProfile(tool_id="a", capabilities=["search"])], seed=0)


def test_record_attempt_takes_a_mapping_of_weights() -> None:
    router = _router()
    assert router.record_attempt(RESULT, capability="search", weights={"success": 2.0, "quality": 0.0}) == 2.0
    pending = router.check_attempt(RESULT, capability="search", weights={"quality": 4.0})
    assert pending.utility == UtilityWeights(quality=4.0).of(RESULT)


@pytest.mark.parametrize(
    ("weights", "error", "message"),
    [
        (3, TypeError, "weights: expected UtilityWeights or a mapping of its fields, got 3"),
        ("cost", TypeError, "weights: expected UtilityWeights or a mapping of its fields, got 'cost'"),
        ({"succes": 1.0}, ValueError, "(?s)weights: .*succes"),
        ({"cost": -1.0}, ValueError, "(?s)weights: .*cost"),
    ],
)
def test_bad_weights_are_refused_by_name_and_record_nothing(weights, error, message) -> None:
    router = _router()
    for attempt in (router.record_attempt, router.check_attempt):
        with pytest.raises(error, match=message):
            attempt(RESULT, capability="search", weights=weights)
    assert router.tool_statistics()["a"].calls == 0
    with pytest.raises(error, match=message):
        ToolMetaLearner([], weights=weights)
