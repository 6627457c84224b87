"""A search whose objective cannot take the trial's parameters stops at once; a TypeError raised in the
objective's body stays an ordinary failed trial."""

from __future__ import annotations

import functools
import math

import optuna
import pytest

from meta.nas import NeuralArchitectureSearch, create_nas_search_space
from meta.optimizer import AllTrialsFailedError, BayesianOptimizer

optuna.logging.set_verbosity(optuna.logging.WARNING)

SPACE = {"learning_rate": (1e-5, 1e-2), "batch_size": (16, 128)}


def no_arguments() -> float:
    return 1.0


def keyword_arguments(learning_rate: float, batch_size: int) -> float:
    return learning_rate * batch_size


def keyword_only(*, params: dict) -> float:
    return 1.0


@pytest.mark.parametrize(
    ("objective", "shown"),
    [
        (no_arguments, "no_arguments()"),
        (keyword_arguments, "keyword_arguments(learning_rate, batch_size)"),
        (keyword_only, "keyword_only(*, params)"),
        (lambda: 0.0, "<lambda>()"),
    ],
)
def test_a_signature_mismatch_stops_before_any_trial(objective, shown: str) -> None:
    opt = BayesianOptimizer(SPACE, sampler="random", seed=0)
    with pytest.raises(TypeError) as raised:
        opt.optimize(objective, n_iterations=5)
    message = str(raised.value)
    assert message.startswith(f"objective_function: {shown} cannot be called with one dict of parameters "
                              "['learning_rate', 'batch_size']")
    assert message.endswith("read, for example, params['learning_rate']")
    # nothing ran and nothing was recorded: the study has no trial and the history is empty
    assert opt.study.trials == [] and opt.history == []


def test_a_type_error_inside_the_objective_is_a_failed_trial_and_the_search_goes_on() -> None:
    def objective(params: dict) -> float:
        if params["batch_size"] > 72:
            return params["learning_rate"] + "oops"  # a TypeError from the body, not from the call
        return -abs(math.log10(params["learning_rate"]) + 3)

    opt = BayesianOptimizer(SPACE, sampler="random", seed=0)
    best, score = opt.optimize(objective, n_iterations=20)
    states = [t.state for t in opt.study.trials]
    assert len(states) == 20
    failed = states.count(optuna.trial.TrialState.FAIL)
    assert 0 < failed < 20
    assert best["batch_size"] <= 72 and math.isfinite(score)


def test_a_type_error_in_the_body_of_the_first_trial_is_also_an_ordinary_failure() -> None:
    def objective(params: dict) -> float:
        return len(params["learning_rate"])  # always a TypeError, raised inside the body

    opt = BayesianOptimizer(SPACE, sampler="random", seed=0)
    with pytest.raises(AllTrialsFailedError, match="all 3 trials failed"):
        opt.optimize(objective, n_iterations=3)
    assert [t.state for t in opt.study.trials] == [optuna.trial.TrialState.FAIL] * 3


def test_partials_and_callable_objects_are_checked_by_their_real_signature() -> None:
    def scored(params: dict, offset: float) -> float:
        return params["learning_rate"] + offset

    class Objective:
        def __call__(self, params: dict) -> float:
            return -params["learning_rate"]

    # a partial that fills the second argument can take the dict; a class with __call__(params) too
    for objective in (functools.partial(scored, offset=1.0), Objective()):
        opt = BayesianOptimizer(SPACE, sampler="random", seed=0)
        _, score = opt.optimize(objective, n_iterations=3)
        assert math.isfinite(score)
    with pytest.raises(TypeError, match=r"objective_function: scored\(params, offset\) cannot be called .*missing a required argument: 'offset'"):
        BayesianOptimizer(SPACE, sampler="random").optimize(scored, n_iterations=3)


def test_nas_evaluation_function_with_a_wrong_signature_stops_before_any_trial() -> None:
    space = create_nas_search_space((8,), num_classes=3, max_layers=2)
    nas = NeuralArchitectureSearch(space, "random", seed=0)
    with pytest.raises(TypeError, match=r"evaluation_function: <lambda>\(arch, data\) cannot be called with one architecture dict"):
        nas.search_architecture(lambda arch, data: 1.0, num_evaluations=3)
    assert nas.study.trials == [] and nas.history == []
