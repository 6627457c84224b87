"""With the GP sampler, a range of more grid values than it can list is refused naming the parameter
when the search is made: Optuna's GPSampler builds an array of every value of an int range (a log
scale too) or a stepped float range at each proposal, so (1, 2**40) asked for 8 TiB and the search
failed with a MemoryError once its start-up trials had run."""

from __future__ import annotations

import pytest

from meta import BayesianOptimizer


@pytest.mark.parametrize(
    ("space", "name"),
    [
        ({"n": (0, 2**40)}, "n"),
        ({"n": (1, 2**40)}, "n"),  # a log scale, listed all the same
        ({"lr": (1e-5, 1e-1), "x": {"low": 0.0, "high": 1.0, "step": 1e-12}}, "x"),
    ],
)
def test_a_grid_the_gp_sampler_cannot_list_is_refused_naming_the_parameter(space: dict, name: str) -> None:
    with pytest.raises(ValueError, match=rf"parameter_space\['{name}'\]: \d+ values on its grid, more than sampler='gp' can list"):
        BayesianOptimizer(space, sampler="gp")


def test_other_samplers_and_small_or_continuous_ranges_are_taken() -> None:
    BayesianOptimizer({"n": (0, 2**40)}, sampler="tpe")
    BayesianOptimizer({"n": (0, 10**6), "x": (0.0, 2.0**40)}, sampler="gp")
