"""The architecture samplers, usable in plain Optuna loops, check their counts and seed when made,
naming the argument: True was taken as 1, 2.5 or a negative count was used, and a bad tournament
size or seed failed with numpy's error at the first proposal."""

from __future__ import annotations

import optuna
import pytest

from meta.nas import RegularizedEvolutionSampler, SurrogateSampler
from meta.nas.space import CellSearchSpace

SPACE = CellSearchSpace()


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: RegularizedEvolutionSampler(SPACE, population_size=4.5), r"population_size: expected an integer >= 2, got 4.5"),
        (lambda: RegularizedEvolutionSampler(SPACE, 4, tournament_size=True), r"tournament_size: expected an integer in \[1, 4\], got True"),
        (lambda: RegularizedEvolutionSampler(SPACE, 4, 2, seed=1.5), r"seed: expected an integer in \[0, 4294967295\], got 1.5"),
        (lambda: SurrogateSampler(SPACE, n_starts=True), r"n_starts: expected an integer >= 1, got True"),
        (lambda: SurrogateSampler(SPACE, n_startup_trials=2.5), r"n_startup_trials: expected an integer >= 2, got 2.5"),
        (lambda: SurrogateSampler(SPACE, n_parents=-1), r"n_parents: expected an integer >= 1, got -1"),
        (lambda: SurrogateSampler(SPACE, n_mutations=0), r"n_mutations: expected an integer >= 1, got 0"),
        (lambda: SurrogateSampler(SPACE, n_random=-3), r"n_random: expected an integer >= 0, got -3"),
        (lambda: SurrogateSampler(SPACE, seed=-1), r"seed: expected an integer in \[0, 4294967295\], got -1"),
    ],
)
def test_a_bad_count_or_seed_is_refused_naming_the_argument(make, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        make()


def test_good_arguments_are_kept() -> None:
    sampler = SurrogateSampler(SPACE, seed=2**32 - 1, n_startup_trials=2, n_parents=2, n_mutations=3, n_random=0, n_starts=2)
    assert (sampler.n_startup_trials, sampler.n_parents, sampler.n_mutations, sampler.n_random, sampler.n_starts) == (2, 2, 3, 0, 2)
    evolution = RegularizedEvolutionSampler(SPACE, population_size=3, tournament_size=3, seed=0)
    assert (evolution.population_size, evolution.tournament_size) == (3, 3)


@pytest.mark.parametrize("make", [lambda: RegularizedEvolutionSampler(SPACE, 4, 2, seed=0), lambda: SurrogateSampler(SPACE, seed=0)])
def test_a_study_of_several_objectives_is_refused_naming_its_directions(make) -> None:
    study = optuna.create_study(directions=["minimize", "maximize"], sampler=make())
    with pytest.raises(ValueError, match=r"study: \w+Sampler searches one objective, this study has directions \['minimize', 'maximize'\]"):
        study.optimize(lambda t: (SPACE.suggest(t)["ops"].count("none"), 1.0), n_trials=1)
    assert study.trials[0].state == optuna.trial.TrialState.FAIL
