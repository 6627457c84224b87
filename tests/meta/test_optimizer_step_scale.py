"""A range given a step and no log is searched on its linear grid: the automatic log scale of a range
over two orders of magnitude refused it ("step 16 and log scale cannot be combined") although no log
scale was asked for. Ranges that were taken keep their scale, so stored studies resume."""

from __future__ import annotations

import pytest

from meta.optimizer import BayesianOptimizer, parse_parameter_space


@pytest.mark.parametrize(
    ("spec", "log", "step"),
    [
        ({"low": 16, "high": 2048, "step": 16}, False, 16),
        ({"low": 0.001, "high": 1.0, "step": 0.001}, False, 0.001),
        # as before: an int step of 1 is an int range's own grid, and the rule of (low, high) holds
        ({"low": 1, "high": 1000, "step": 1}, True, 1),
        ({"low": 1, "high": 1000}, True, 1),
    ],
)
def test_a_stepped_range_without_log_is_linear(spec: dict, log: bool, step: float) -> None:
    dist = parse_parameter_space({"x": spec})["x"]
    assert dist.log is log and dist.step == step


def test_a_stepped_range_is_searched_on_its_grid() -> None:
    opt = BayesianOptimizer({"batch": {"low": 16, "high": 2048, "step": 16}}, sampler="random", seed=0)
    opt.optimize(lambda p: -abs(p["batch"] - 512), n_iterations=8)
    assert all(params["batch"] % 16 == 0 and 16 <= params["batch"] <= 2048 for params, _ in opt.history)


def test_log_with_a_step_is_still_refused() -> None:
    with pytest.raises(ValueError, match=r"parameter_space\['x'\]: step 16 and log scale cannot be combined"):
        parse_parameter_space({"x": {"low": 16, "high": 2048, "step": 16, "log": True}})
