"""NeuralArchitectureSearch's seed, n_starts, storage, study_name and mutation are checked when the search is made
(whatever the algorithm), naming the option."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from meta.nas import NeuralArchitectureSearch, create_nb201_search_space
from meta.optimizer import BayesianOptimizer


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"seed": True}, r"seed: expected an integer in \[0, 4294967295\], got True"),
        ({"seed": 1.5}, r"seed: expected an integer in \[0, 4294967295\], got 1.5"),
        ({"seed": -1}, r"seed: expected an integer in \[0, 4294967295\], got -1"),
        ({"seed": 2**32}, r"seed: expected an integer in \[0, 4294967295\], got 4294967296"),
        ({"n_starts": True}, r"n_starts: expected an integer >= 1, got True"),
        ({"storage": 5}, r"storage: expected None, a URL or an Optuna storage, got 5"),
        ({"study_name": 5}, r"study_name: expected None or a string, got 5"),
        ({"mutation": "gaussian"}, r"mutation: choose 'guided' or 'random', got 'gaussian'"),
    ],
)
def test_bad_search_options_are_refused_when_the_search_is_made(options: dict, match: str) -> None:
    with pytest.raises((ValueError, TypeError), match=match):
        NeuralArchitectureSearch(create_nb201_search_space(), "random", **options)


def test_a_seed_numpy_cannot_take_is_refused_by_the_bayesian_optimizer() -> None:
    with pytest.raises(ValidationError, match="seed"):
        BayesianOptimizer({"x": (0.0, 1.0)}, seed=-1)
    assert BayesianOptimizer({"x": (0.0, 1.0)}, seed=2**32 - 1).config.seed == 2**32 - 1
