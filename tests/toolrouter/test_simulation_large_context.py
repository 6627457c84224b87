"""A simulated tool's success probability is the logistic function of its logit plus the context's
weighted sum, for any finite context: ``exp(-z)`` overflowed for a sum below -709 (a context of a
few hundred), and the call or the oracle raised OverflowError instead of giving a probability
near 0."""

from __future__ import annotations

import math

import numpy as np
import pytest

from toolrouter import ToolProfile, UtilityWeights
from toolrouter.simulation import SimulatedTool, SyntheticEnvironment


def tool(tool_id: str, weight: float) -> SimulatedTool:
    return SimulatedTool(
        profile=ToolProfile(tool_id=tool_id, capabilities=["search"]),
        success_prob=0.5,
        quality_mean=0.9,
        latency_mean_s=0.0,
        cost=0.0,
        context_weights=np.array([weight]),
    )


@pytest.mark.parametrize("x", [-1000.0, -40.0, 0.0, 2.0, 40.0, 1000.0])
def test_the_success_probability_is_the_logistic_of_the_logit(x) -> None:
    # the logit of 0.5 is 0, so the probability is 1 / (1 + exp(-x))
    p = tool("a", 1.0).success_probability(0, np.array([x]))
    assert 0.0 <= p <= 1.0
    assert p == pytest.approx(math.exp(min(x, 0)) / (1 + math.exp(-abs(x))), rel=1e-12, abs=1e-300)


def test_a_large_context_gives_a_sure_failure_and_a_sure_success_not_an_error() -> None:
    env = SyntheticEnvironment(tools=[tool("up", 1.0), tool("down", -1.0)], seed=0)
    context = np.array([800.0])
    assert env.tool("down").success_probability(0, context) == 0.0
    assert not env.call("down", context=context).success
    assert env.call("up", context=context).success
    assert env.best_expected_utility("search", UtilityWeights(), context=context) == pytest.approx(
        env.expected_utility("up", UtilityWeights(), context=context)
    )
