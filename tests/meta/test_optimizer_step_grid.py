"""A range whose step does not divide it is refused naming the parameter and the grid's last value:
Optuna moved its high bound down to that value with nothing but a warning."""

from __future__ import annotations

import warnings

import pytest

from meta.optimizer import BayesianOptimizer, parse_parameter_space


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        ({"low": 0.0, "high": 1.0, "step": 0.3}, r"\['x'\]: step 0.3 does not divide the range \(0.0, 1.0\), whose last value on the grid is 0.9; give high=0.9"),
        ({"low": 1, "high": 10, "step": 4}, r"\['x'\]: step 4 does not divide the range \(1, 10\), whose last value on the grid is 9; give high=9"),
    ],
)
def test_a_step_that_does_not_divide_the_range_is_refused(spec: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        parse_parameter_space({"x": spec})
    with pytest.raises(ValueError, match=match):
        BayesianOptimizer({"x": spec})


def test_a_step_that_divides_the_range_keeps_both_bounds_without_a_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        space = parse_parameter_space({"x": {"low": 0.0, "high": 0.9, "step": 0.3}, "n": {"low": 1, "high": 9, "step": 4}})
    assert (space["x"].low, space["x"].high, space["n"].low, space["n"].high) == (0.0, 0.9, 1, 9)
