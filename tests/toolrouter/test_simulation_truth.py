"""The simulator's truth is the mean of its own draws: a successful call's quality is clipped to
[0, 1], so the expected quality and utility (what the oracle and every regret are computed from) are
those of the clipped draw, not ``quality_mean`` itself."""

import numpy as np
import pytest

from toolrouter import ToolProfile, UtilityWeights
from toolrouter.simulation import SimulatedTool, SyntheticEnvironment

N = 20_000


def _env(quality_mean: float, success_prob: float = 1.0) -> SyntheticEnvironment:
    tool = SimulatedTool(
        profile=ToolProfile(tool_id="a", capabilities=["search"]),
        success_prob=success_prob,
        quality_mean=quality_mean,
        latency_mean_s=0.5,
        cost=0.2,
    )
    return SyntheticEnvironment(tools=[tool], seed=7)


@pytest.mark.parametrize("quality_mean", [0.0, 0.04, 0.5, 0.96, 1.0])
def test_expected_quality_is_the_mean_of_the_simulated_qualities(quality_mean):
    env = _env(quality_mean)
    qualities = np.array([env.call("a").quality for _ in range(N)])
    se = qualities.std() / np.sqrt(N)
    assert abs(env.tools[0].expected_quality - qualities.mean()) < 4 * se


def test_expected_utility_of_a_tool_of_top_quality_is_the_mean_utility_of_its_calls():
    # quality_mean 1.0: half the draws are clipped to 1, so the mean quality is 0.96, not 1.0
    env, weights = _env(1.0, success_prob=0.95), UtilityWeights()
    utilities = np.array([weights.of(env.call("a")) for _ in range(N)])
    se = utilities.std() / np.sqrt(N)
    assert abs(env.expected_utility("a", weights) - utilities.mean()) < 4 * se
    assert env.tools[0].expected_quality == pytest.approx(0.96, abs=1e-3)


def test_the_oracle_picks_the_tool_whose_clipped_quality_is_worth_more():
    # unclipped, "top" (0.9 x (1 + 1.0) = 1.800) beats "steady" (0.92 x (1 + 0.94) = 1.785);
    # clipped, "top" is worth 0.9 x 1.960 = 1.764 and "steady" 0.92 x 1.923 = 1.769
    tools = [
        SimulatedTool(ToolProfile(tool_id=t, capabilities=["search"]), p, q, 0.0, 0.0)
        for t, p, q in (("top", 0.9, 1.0), ("steady", 0.92, 0.94))
    ]
    env, weights = SyntheticEnvironment(tools=tools), UtilityWeights()
    assert env.best_expected_utility("search", weights) == env.expected_utility("steady", weights)
    assert env.expected_utility("steady", weights) == pytest.approx(0.92 * 1.9231, abs=1e-4)


def test_drifting_tools_are_the_best_of_each_capability_first():
    weights = UtilityWeights()
    for seed in range(3):
        env = SyntheticEnvironment.make(n_tools=9, capabilities=("search", "code", "llm"), drifting=4, seed=seed)
        drifted = {t.profile.tool_id for t in env.tools if t.drift is not None}
        second = []
        for capability in ("search", "code", "llm"):
            ranked = sorted((t for t in env.tools if t.profile.serves(capability)), key=lambda t: -t.expected_utility(weights, 0))
            assert ranked[0].profile.tool_id in drifted, (seed, capability)
            second.append(ranked[1])
        # the fourth is the best of the second-best tools
        assert max(second, key=lambda t: t.expected_utility(weights, 0)).profile.tool_id in drifted
        assert len(drifted) == 4
