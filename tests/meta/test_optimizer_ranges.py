"""A range's step and log options: each is taken only as stated or refused naming the parameter and the value."""

from __future__ import annotations

import pytest

from meta.optimizer import parse_parameter_space


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        ({"low": 1, "high": 10, "step": 0}, r"\['n'\]: step: expected an integer >= 1, got 0"),
        ({"low": 1, "high": 10, "step": 2.5}, r"\['n'\]: step: expected an integer >= 1, got 2.5"),
        ({"low": 1, "high": 10, "step": True}, r"\['n'\]: step: expected an integer >= 1, got True"),
        ({"low": 1, "high": 10, "step": -2}, r"\['n'\]: step: expected an integer >= 1, got -2"),
        ({"low": 0.0, "high": 1.0, "step": 0.0}, r"\['n'\]: step: expected a finite number > 0, got 0.0"),
        ({"low": 0.0, "high": 1.0, "step": float("nan")}, r"\['n'\]: step: expected a finite number > 0, got nan"),
        ({"low": 0.0, "high": 1.0, "step": "0.1"}, r"\['n'\]: step: expected a finite number > 0, got '0.1'"),
        ({"low": 1, "high": 100, "step": 2, "log": True}, r"\['n'\]: step 2 and log scale cannot be combined"),
        ({"low": 1, "high": 10, "log": "no"}, r"\['n'\]: log must be True or False, got 'no'"),
        ({"low": 1, "high": 10, "log": 1}, r"\['n'\]: log must be True or False, got 1"),
    ],
)
def test_bad_step_or_log_is_refused_naming_the_parameter(spec: dict, match: str) -> None:
    with pytest.raises((ValueError, TypeError), match=match):
        parse_parameter_space({"n": spec})


def test_valid_steps_are_kept() -> None:
    space = parse_parameter_space(
        {"n": {"low": 2, "high": 10, "step": 2}, "x": {"low": 0.0, "high": 1.0, "step": 0.25}, "k": {"low": 1, "high": 64, "step": 1, "log": True}}
    )
    assert (space["n"].step, space["x"].step, space["k"].step, space["k"].log) == (2, 0.25, 1, True)
