"""SurrogateSampler fits its GP to a bounded window of recent trials, not the whole history: a fit
costs the cube of its trials and scoring grows with them, so refitting on all of them at every
proposal made each proposal of a long search dearer than the last."""

from __future__ import annotations

import optuna
from test_nas_guided_window import RecordsFits

from meta.nas import create_nas_search_space, samplers
from meta.nas.space import make_space


class Recording(RecordsFits, samplers.SurrogateSampler):
    pass


def run(monkeypatch, window: int, **options) -> tuple[Recording, optuna.Study]:
    monkeypatch.setattr(samplers, "GUIDE_WINDOW", window)
    space = make_space(create_nas_search_space((3, 8, 8), 2, max_layers=6))  # not enumerated: a quick proposal
    sampler = Recording(space, seed=0, n_startup_trials=2, n_parents=2, n_mutations=5, n_random=10, **options)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(lambda t: float(len(space.suggest(t)["layers"])), n_trials=8)
    return sampler, study


def test_the_surrogate_fits_the_most_recent_trials_only(monkeypatch) -> None:
    sampler, _ = run(monkeypatch, 3)
    assert len(sampler.fitted) == 6 and all(len(numbers) <= 3 for numbers in sampler.fitted)
    assert sampler.fitted[-1] == [4, 5, 6]  # the newest finished ones, trial 7 being proposed


def test_each_start_fits_its_own_most_recent_trials(monkeypatch) -> None:
    sampler, _ = run(monkeypatch, 2, n_starts=2)
    assert sampler.fitted and all(len(numbers) <= 2 for numbers in sampler.fitted)
    assert sampler.fitted[-1] == [3, 5]  # trial 7's search: the odd trials, the newest two

