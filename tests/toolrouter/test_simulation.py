"""The simulated tool ecosystem: bad arguments are named, and a rejected call changes nothing."""

from __future__ import annotations

import numpy as np
import pytest

from toolrouter import UtilityWeights
from toolrouter.simulation import SyntheticEnvironment


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"n_tools": 2.5}, "n_tools: expected an integer >= 1, got 2.5"),
        ({"n_tools": True}, "n_tools: expected an integer >= 1, got True"),
        ({"context_dim": -1}, "context_dim: expected an integer >= 0, got -1"),
        ({"drifting": -1}, "drifting: expected an integer >= 0, got -1"),
        ({"drifting": 11}, r"drifting: at most n_tools \(10\) tools can drift, got 11"),
        ({"drift_at_call": -5}, "drift_at_call: expected an integer >= 0, got -5"),
        ({"seed": 1.5}, "seed: expected an integer >= 0, got 1.5"),
        ({"capabilities": ("a", "a")}, r"capabilities: names must be distinct .* got \('a', 'a'\)"),
        ({"capabilities": ("a", "")}, r"capabilities: expected non-empty strings, got \('a', ''\)"),
        ({"capabilities": ()}, r"capabilities: expected a non-empty sequence of names, got \(\)"),
    ],
)
def test_bad_arguments_to_make_are_named(options: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SyntheticEnvironment.make(**{"n_tools": 10, **options})


def test_one_capability_may_be_given_as_a_string_as_for_a_tool_profile() -> None:
    env = SyntheticEnvironment.make(n_tools=3, capabilities="search", context_dim=np.int64(2), seed=0)
    assert [t.profile.tool_id for t in env.tools] == ["search_0", "search_1", "search_2"]
    assert env.tools[0].context_weights.shape == (2,)


def test_tools_with_one_id_are_refused_not_merged() -> None:
    tool = SyntheticEnvironment.make(n_tools=1, seed=0).tools[0]
    with pytest.raises(ValueError, match="tools: tool ids must be distinct, got \\['search_0', 'search_0'\\]"):
        SyntheticEnvironment(tools=[tool, tool])


@pytest.mark.parametrize("context", [np.zeros(3), np.array([np.nan, 0.0]), "ab"])
def test_a_call_with_a_bad_context_is_named_and_changes_nothing(context) -> None:
    env = SyntheticEnvironment.make(n_tools=2, capabilities=("search",), context_dim=2, seed=0)
    untouched = SyntheticEnvironment.make(n_tools=2, capabilities=("search",), context_dim=2, seed=0)
    with pytest.raises(ValueError, match="context: expected 2 finite numbers"):
        env.call("search_0", context=context)
    assert env.calls == 0
    draws = [e.call("search_0", context=np.ones(2)) for e in (env, untouched)]
    assert [(r.success, r.quality, r.latency_s) for r in draws[:1]] == [(r.success, r.quality, r.latency_s) for r in draws[1:]]


def test_the_oracle_for_a_capability_no_tool_serves_is_named() -> None:
    env = SyntheticEnvironment.make(n_tools=2, capabilities=("search",), seed=0)
    with pytest.raises(ValueError, match="capability: no simulated tool serves 'code'"):
        env.best_expected_utility("code", UtilityWeights())
