"""Utility weights are bounded where they are set: weights that score an outcome past
``MAX_ABS_REWARD`` had every such outcome refused when recorded, a routed call whose tool succeeded
raising AllToolsFailedError (its success recorded as the tool's failure)."""

from __future__ import annotations

import pytest

from toolrouter import ExecutionResult, TaskProfile, UtilityWeights
from toolrouter.middleware import ToolMiddleware
from toolrouter.policies import MAX_ABS_REWARD


@pytest.mark.parametrize(
    ("weights", "match"),
    [
        ({"success": 2e9}, r"success=2000000000\.0, quality=1\.0: expected success \+ quality <= 1e\+09"),
        ({"quality": 1e12, "success": 0.0}, r"success=0\.0, quality=1000000000000\.0: expected success \+ quality <= 1e\+09"),
        ({"latency": 1e10}, r"cost=0\.1, latency=10000000000\.0: expected cost \+ latency <= 1e\+09"),
    ],
)
def test_weights_past_the_reward_bound_are_refused_naming_them(weights, match) -> None:
    with pytest.raises(ValueError, match=match):
        UtilityWeights(**weights)
    with pytest.raises(ValueError, match=match):
        TaskProfile(task_id="t", weights=weights)


def test_at_the_bound_a_routed_success_is_recorded_as_one() -> None:
    tools = ToolMiddleware(seed=0, weights=UtilityWeights(success=MAX_ABS_REWARD - 1.0, quality=1.0))
    tools.register(lambda: "done", "answer", tool_id="a")
    assert tools.route("answer")() == "done"
    result = ExecutionResult(tool_id="a", step="answer", success=True, latency_s=1.0, cost=1.0)
    learned = tools.learner.learn_from_execution(TaskProfile(task_id="t", required_capabilities=["answer"]), [result])
    assert learned.utilities == {"a": [pytest.approx(MAX_ABS_REWARD - 0.2)]}
