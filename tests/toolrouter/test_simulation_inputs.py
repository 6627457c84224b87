"""A simulated tool, its drift and an environment check their numbers when made: a probability
outside [0, 1], NaN, a negative latency or seed, or a context weight that is not a finite number is
refused, naming the field and the value."""

import math

import numpy as np
import pytest

from toolrouter import ToolProfile
from toolrouter.simulation import Drift, SimulatedTool, SyntheticEnvironment

PROFILE = ToolProfile(tool_id="a", capabilities=["search"])
GOOD = {"profile": PROFILE, "success_prob": 0.5, "quality_mean": 0.9, "latency_mean_s": 1.0, "cost": 0.1}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("success_prob", 1.5, "success_prob: expected a finite number in [0, 1], got 1.5"),
        ("success_prob", float("nan"), "success_prob: expected a finite number in [0, 1], got nan"),
        ("quality_mean", -0.1, "quality_mean: expected a finite number in [0, 1], got -0.1"),
        ("latency_mean_s", -1.0, "latency_mean_s: expected a finite number >= 0, got -1.0"),
        ("cost", "0.1", "cost: expected a finite number >= 0, got '0.1'"),
    ],
)
def test_bad_tool_numbers_are_refused(field, value, message):
    with pytest.raises(ValueError) as info:
        SimulatedTool(**{**GOOD, field: value})
    assert str(info.value) == message


def test_bad_drift_is_refused():
    with pytest.raises(ValueError, match=r"success_prob: expected a finite number in \[0, 1\], got 2"):
        Drift(at_call=10, success_prob=2)
    with pytest.raises(ValueError, match="at_call: expected an integer >= 0, got -1"):
        Drift(at_call=-1, success_prob=0.1)
    with pytest.raises(TypeError, match="drift: expected a Drift or None, got 5"):
        SimulatedTool(**GOOD, drift=5)


def test_good_tool_keeps_its_numbers():
    tool = SimulatedTool(**GOOD, drift=Drift(at_call=3, success_prob=0))
    assert (tool.success_probability(0), tool.success_probability(3)) == (0.5, 0.0)


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        # a NaN weight made every success probability NaN: each call failed, the truth was NaN
        (np.array([np.nan, 1.0]), r"context_weights: expected a non-empty vector of finite numbers, got array\(\[nan,  1\.\]\)"),
        (np.ones((1, 2)), "context_weights: expected a non-empty vector of finite numbers"),
        ([], r"context_weights: expected a non-empty vector of finite numbers, got \[\]"),
        ("ab", "context_weights: expected real numbers, got 'ab'"),
    ],
)
def test_bad_context_weights_are_refused(weights, message):
    with pytest.raises(ValueError, match=message):
        SimulatedTool(**GOOD, context_weights=weights)


def test_context_weights_given_as_a_list_are_used():
    tool = SimulatedTool(**GOOD, context_weights=[2.0, 0.0])
    assert tool.success_probability(0, np.array([1.0, 5.0])) == pytest.approx(1 / (1 + math.exp(-2.0)))


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"seed": -1}, ValueError, "seed: expected an integer >= 0, got -1"),
        ({"seed": 1.5}, ValueError, "seed: expected an integer >= 0, got 1.5"),
        ({"calls": -3}, ValueError, "calls: expected an integer >= 0, got -3"),
        ({"tools": ["search_0"]}, TypeError, "tools: expected SimulatedTool objects, got 'search_0'"),
    ],
)
def test_bad_environment_fields_are_named(options, error, message):
    with pytest.raises(error) as info:
        SyntheticEnvironment(**{"tools": [SimulatedTool(**GOOD)], **options})
    assert str(info.value) == message
