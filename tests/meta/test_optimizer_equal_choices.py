"""Categorical choices that are equal (1, 1.0, True): Optuna records a trial's choice as the first
equal one, so the objective could score one value while the study reported another; refused."""

from __future__ import annotations

import optuna
import pytest

from meta.nas import NeuralArchitectureSearch
from meta.nas.space import CellSearchSpace
from meta.optimizer import BayesianOptimizer, parse_parameter_space


@pytest.mark.parametrize(
    ("choices", "pair"),
    [([1, True], "1 and True"), ([0.5, 1, 1.0], "1 and 1.0"), ([None, 0, False], "0 and False"), (["a", "a"], "'a' and 'a'")],
)
def test_equal_choices_are_refused_naming_the_parameter_and_both(choices: list, pair: str) -> None:
    with pytest.raises(ValueError, match=rf"parameter_space\['flag'\]: choices {pair} are equal"):
        BayesianOptimizer({"flag": choices, "x": (0.0, 1.0)})
    with pytest.raises(ValueError, match=rf"parameter_space\['flag'\]: choices {pair} are equal"):
        parse_parameter_space({"flag": optuna.distributions.CategoricalDistribution(choices)})


def test_an_architecture_space_with_equal_choices_is_refused() -> None:
    class EqualWidths(CellSearchSpace):
        def distributions(self):
            return {**super().distributions(), "width": optuna.distributions.CategoricalDistribution([16, 16.0])}

    with pytest.raises(ValueError, match=r"parameter 'width': choices 16 and 16.0 are equal"):
        NeuralArchitectureSearch(EqualWidths(), "random")


def test_distinct_choices_are_called_and_recorded_as_the_same_value() -> None:
    opt = BayesianOptimizer({"flag": [True, 2, 0.5, "a", None]}, sampler="random", seed=0)
    called: list = []
    opt.optimize(lambda p: called.append(p["flag"]) or float(len(called)), n_iterations=12)
    recorded = [t.params["flag"] for t in opt.study.trials]
    assert [(type(v), v) for v in recorded] == [(type(v), v) for v in called]
    best = opt.best()[0]["flag"]  # the last call scored highest
    assert (type(best), best) == (type(called[-1]), called[-1])
