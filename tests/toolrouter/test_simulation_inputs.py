"""A simulated tool and its drift check their numbers when made: a probability outside [0, 1], NaN
or a negative latency is refused, naming the field and the value."""

import pytest

from toolrouter import ToolProfile
from toolrouter.simulation import Drift, SimulatedTool

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
