"""trial_timeout_s: a trial over its limit is recorded as failed and the search goes on."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import optuna
import pytest
from pydantic import ValidationError

from meta import BayesianOptimizer, NeuralArchitectureSearch, create_nb201_search_space
from meta.optimizer import AllTrialsFailedError


def first_call_hangs(release: threading.Event, answer: Callable[[Any], float]) -> Callable[[Any], float]:
    """An objective whose first call hangs until ``release`` is set (then answers 100.0, too late);
    later calls give ``answer(argument)``."""
    calls: list[int] = []

    def objective(argument: Any) -> float:
        calls.append(1)
        if len(calls) == 1:
            release.wait(30)  # hangs until the test lets it go
            return 100.0
        return answer(argument)

    return objective


def test_hpo_a_hanging_trial_fails_with_its_limit_and_the_search_goes_on() -> None:
    release = threading.Event()
    objective = first_call_hangs(release, lambda params: params["x"])
    opt = BayesianOptimizer({"x": (0.0, 1.0)}, sampler="random", trial_timeout_s=0.2)
    try:
        params, score = opt.optimize(objective, n_iterations=3)
    finally:
        release.set()
    first, *rest = opt.study.trials
    assert first.state == optuna.trial.TrialState.FAIL and first.user_attrs["timed_out_s"] == 0.2
    assert [t.state for t in rest] == [optuna.trial.TrialState.COMPLETE] * 2
    assert score == max(t.value for t in rest) and len(opt.history) == 2  # the late 100.0 is discarded


def test_hpo_with_a_limit_keeps_failures_and_values_of_trials_within_it() -> None:
    def objective(params: dict[str, Any]) -> float:
        if params["n"] == 1:
            raise RuntimeError("bad n")
        return float(params["n"])

    opt = BayesianOptimizer({"n": [1, 2]}, sampler="random", trial_timeout_s=5)
    opt.optimize(objective, n_iterations=6)
    for t in opt.study.trials:
        assert "timed_out_s" not in t.user_attrs
        assert t.state == (optuna.trial.TrialState.FAIL if t.params["n"] == 1 else optuna.trial.TrialState.COMPLETE)
    with pytest.raises(AllTrialsFailedError):
        BayesianOptimizer({"n": [1]}, trial_timeout_s=5).optimize(objective, n_iterations=1)


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), float("inf"), True])
def test_a_bad_limit_is_refused_naming_it(bad: Any) -> None:
    with pytest.raises(ValidationError, match="trial_timeout_s"):
        BayesianOptimizer({"x": (0.0, 1.0)}, trial_timeout_s=bad)
    with pytest.raises((ValueError, TypeError), match="trial_timeout_s"):
        NeuralArchitectureSearch(create_nb201_search_space(), "random", trial_timeout_s=bad)


def test_nas_a_hanging_evaluation_fails_with_its_limit_and_the_search_goes_on() -> None:
    release = threading.Event()
    evaluate = first_call_hangs(release, lambda arch: 1.0)
    nas = NeuralArchitectureSearch(create_nb201_search_space(), "random", seed=0, trial_timeout_s=0.2)
    try:
        nas.search_architecture(evaluate, num_evaluations=3)
    finally:
        release.set()
    states = [t.state for t in nas.study.trials]
    assert states == [optuna.trial.TrialState.FAIL] + [optuna.trial.TrialState.COMPLETE] * 2
    assert nas.study.trials[0].user_attrs["timed_out_s"] == 0.2
