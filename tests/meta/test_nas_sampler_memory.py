"""The model-based samplers keep the codes of evaluated architectures only: those of the candidates
they score at each proposal, hundreds and nearly all new, were kept too, so that a long search over a
large space grew by about a megabyte a trial."""

from __future__ import annotations

import optuna
import pytest

from meta.nas import RegularizedEvolutionSampler, SurrogateSampler, create_nas_search_space
from meta.nas.space import make_space


@pytest.mark.parametrize(
    "make_sampler",
    [
        lambda space: SurrogateSampler(space, seed=0, n_startup_trials=2, n_parents=2, n_mutations=10, n_random=20),
        lambda space: RegularizedEvolutionSampler(space, population_size=2, tournament_size=2, seed=0),
    ],
    ids=["bayesian", "evolutionary"],
)
def test_codes_kept_are_those_of_the_trials(make_sampler) -> None:
    space = make_space(create_nas_search_space((3, 8, 8), 2, max_layers=6))  # far too many to enumerate
    sampler = make_sampler(space)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(lambda t: float(len(space.suggest(t)["layers"])), n_trials=6)
    assert 0 < len(sampler._code_cache) <= len(study.trials)
