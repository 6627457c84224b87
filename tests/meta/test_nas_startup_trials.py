"""The Bayesian architecture search starts its GP once two results are in, so it takes two random
start-up trials at least: ``n_startup_trials=1`` is refused naming it, where the sampler used 2
without a word; Optuna's own samplers, which model from one trial, still take 1."""

from __future__ import annotations

import optuna
import pytest

from meta import NeuralArchitectureSearch
from meta.nas import SurrogateSampler
from meta.nas.space import CellSearchSpace

SPACE = CellSearchSpace()


@pytest.mark.parametrize("make", [
    lambda: SurrogateSampler(SPACE, n_startup_trials=1),
    lambda: NeuralArchitectureSearch(SPACE, "bayesian", n_startup_trials=1),
])
def test_one_start_up_trial_is_refused_for_the_gp_naming_it(make) -> None:
    with pytest.raises(ValueError, match=r"^n_startup_trials: expected an integer >= 2, got 1$"):
        make()


def test_two_start_up_trials_are_two_and_the_gp_proposes_the_third() -> None:
    sampler = SurrogateSampler(SPACE, seed=0, n_startup_trials=2)
    assert sampler.n_startup_trials == 2
    proposed = []
    sampler.propose = lambda history, seen: proposed.append(len(history)) or SurrogateSampler.propose(sampler, history, seen)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(lambda t: SPACE.suggest(t)["ops"].count("nor_conv_3x3"), n_trials=3)
    assert proposed == [2]  # trials 0 and 1 random, trial 2 from the GP on their results


def test_optuna_samplers_still_take_one_start_up_trial() -> None:
    assert NeuralArchitectureSearch(SPACE, "tpe", n_startup_trials=1).n_startup_trials == 1
