"""Guided evolution fits its GP to a bounded window of recent trials, not the whole history: a fit costs
the cube of its trials, and refitting on all of them at every proposal made long searches crawl."""

from __future__ import annotations

import optuna

from meta.nas import samplers
from meta.nas.space import CellSearchSpace


class RecordsFits:
    """A sampler that keeps the trial numbers of the history each surrogate fit is given."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fitted: list[list[int]] = []

    def fit_surrogate(self, history):
        self.fitted.append([number for number, _, _ in history])
        return super().fit_surrogate(history)


class Recording(RecordsFits, samplers.RegularizedEvolutionSampler):
    pass


def run(monkeypatch) -> tuple[Recording, optuna.Study]:
    monkeypatch.setattr(samplers, "GUIDE_WINDOW", 5, raising=False)
    space = CellSearchSpace()
    sampler = Recording(space, population_size=3, tournament_size=2, mutation="guided", seed=0)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(lambda t: float(space.suggest(t)["ops"].count("nor_conv_3x3")), n_trials=14)
    return sampler, study


def test_guided_mutation_fits_the_most_recent_trials_only(monkeypatch) -> None:
    sampler, _ = run(monkeypatch)
    assert sampler.fitted and all(len(numbers) <= 5 for numbers in sampler.fitted)
    last = sampler.fitted[-1]
    assert last == sorted(last) and last[-1] >= 12  # the newest ones


def test_same_seed_same_search(monkeypatch) -> None:
    first = [t.params for t in run(monkeypatch)[1].trials]
    assert [t.params for t in run(monkeypatch)[1].trials] == first


def test_the_docs_cost_table_bounds_the_fit_by_the_window() -> None:
    # the users' table of what each algorithm costs: the guided fit's n is the window, not every trial
    from pathlib import Path

    table = (Path(__file__).resolve().parents[2] / "docs" / "benchmarks" / "nas.md").read_text(encoding="utf-8")
    (row,) = [line for line in table.splitlines() if line.startswith('| `evolutionary` (`mutation="guided"`)')]
    assert f"the {samplers.GUIDE_WINDOW} most recently finished trials, `GUIDE_WINDOW`" in row
