"""The simulator's expected utilities take their weights as ``UtilityWeights`` or a mapping of its
fields, as the benchmark and the routers do; other weights are refused naming ``weights``. A
mapping failed inside as "'dict' object has no attribute 'utility'", and the benchmark's refusal
named UtilityWeights, not its argument."""

from __future__ import annotations

import pytest

from toolrouter import TaskProfile, UtilityWeights, create_tool_optimization_benchmark
from toolrouter.simulation import SyntheticEnvironment

ENV = SyntheticEnvironment.make(n_tools=3, capabilities="search", seed=0)


def test_a_mapping_of_weights_is_taken_as_its_utility_weights() -> None:
    given, model = {"cost": 2.0, "latency": 0.5}, UtilityWeights(cost=2.0, latency=0.5)
    assert ENV.expected_utility("search_1", given) == ENV.expected_utility("search_1", model)
    assert ENV.tool("search_1").expected_utility(given, 0) == ENV.tool("search_1").expected_utility(model, 0)
    assert ENV.best_expected_utility("search", given) == ENV.best_expected_utility("search", model)


@pytest.mark.parametrize(
    ("weights", "error", "message"),
    [
        ("cost", TypeError, "weights: expected UtilityWeights or a mapping of its fields, got 'cost'"),
        (None, TypeError, "weights: expected UtilityWeights or a mapping of its fields, got None"),
        ({"cost": -1.0}, ValueError, "weights: 1 validation error for UtilityWeights"),
    ],
)
def test_other_weights_are_refused_naming_them(weights, error, message) -> None:
    for use in (
        lambda: ENV.expected_utility("search_0", weights),
        lambda: ENV.best_expected_utility("search", weights),
    ):
        with pytest.raises(error, match=message):
            use()
    if weights is not None:  # the benchmark's default
        with pytest.raises(error, match=message):
            create_tool_optimization_benchmark(ENV.profiles, [TaskProfile(task_id="q")], 3, policies=["ucb1"], seeds=1, weights=weights)
