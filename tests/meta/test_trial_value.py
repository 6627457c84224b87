"""What an objective may return: a number or a one-element tensor or array; anything else fails its trial."""

from __future__ import annotations

import numpy as np
import optuna
import pytest
import torch

from meta.nas.search import NeuralArchitectureSearch
from meta.nas.space import create_nb201_search_space
from meta.optimizer import AllTrialsFailedError, BayesianOptimizer, trial_value


NO_NUMBERS = [("0.5", r"'0.5' \(str\)"), (True, r"True \(bool\)"), (torch.zeros(3), r"a Tensor of shape \(3,\)"), (torch.tensor(True), r"True \(bool\)")]


@pytest.mark.parametrize(("result", "shown"), NO_NUMBERS)
def test_a_result_that_is_no_number_fails_the_trial_naming_it(result: object, shown: str) -> None:
    with pytest.raises(TypeError, match=f"the objective returned {shown}; return a number, or a tensor or array of one element"):
        trial_value(result)
    opt = BayesianOptimizer({"x": (0.0, 1.0)}, sampler="random")
    with pytest.raises(AllTrialsFailedError, match="all 2 trials failed"):
        opt.optimize(lambda p: result, n_iterations=2)
    assert [t.state for t in opt.study.trials] == [optuna.trial.TrialState.FAIL] * 2 and opt.history == []


def test_one_element_tensors_and_arrays_are_scores() -> None:
    results = iter([torch.tensor([[0.25]], requires_grad=True) * 2, np.array([0.75]), np.float32(0.125)])
    opt = BayesianOptimizer({"x": (0.0, 1.0)}, sampler="random")
    assert opt.optimize(lambda p: next(results), n_iterations=3) == (opt.history[1][0], 0.75)
    assert [score for _, score in opt.history] == [0.5, 0.75, 0.125]


def test_an_architecture_search_fails_trials_that_return_a_string() -> None:
    nas = NeuralArchitectureSearch(create_nb201_search_space(), "random", seed=0)
    with pytest.raises(AllTrialsFailedError):
        nas.search_architecture(lambda arch: "1.0", num_evaluations=2)
