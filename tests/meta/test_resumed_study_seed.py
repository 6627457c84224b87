"""A search resumed from its storage with the same seed goes on with new parameters: its sampler is
seeded from the seed and the number of stored trials, where the first run's seed made it propose
that run's random start-up parameters again, in the same order."""

from __future__ import annotations

import pytest

from meta.nas import NeuralArchitectureSearch, create_nb201_search_space
from meta.optimizer import BayesianOptimizer, resumed_seed


@pytest.mark.parametrize("sampler", ["random", "tpe", "gp"])
def test_a_resumed_study_does_not_draw_the_first_runs_parameters_again(tmp_path, sampler: str) -> None:
    url = f"sqlite:///{tmp_path / 'hpo.db'}"

    def run() -> BayesianOptimizer:
        opt = BayesianOptimizer({"x": (0.0, 1.0)}, sampler=sampler, storage=url, study_name="s", seed=0)
        opt.optimize(lambda p: p["x"], n_iterations=3)
        return opt

    run()
    xs = [t.params["x"] for t in run().study.trials]
    assert len(set(xs)) == 6
    # a new study with the seed still runs as it always did
    fresh = BayesianOptimizer({"x": (0.0, 1.0)}, sampler=sampler, seed=0)
    fresh.optimize(lambda p: p["x"], n_iterations=3)
    assert [t.params["x"] for t in fresh.study.trials] == xs[:3]


def test_a_resumed_architecture_search_proposes_unseen_cells_from_its_first_ask(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'nas.db'}"

    def run() -> NeuralArchitectureSearch:
        nas = NeuralArchitectureSearch(create_nb201_search_space(), "random", storage=url, study_name="s", seed=0)
        nas.search_architecture(lambda a: a["ops"].count("skip_connect"), num_evaluations=4)
        return nas

    run()
    trials = run().study.trials
    assert len(trials) == 8 and not any(t.user_attrs.get("repeat") for t in trials)


def test_resumed_seed_is_the_seed_for_a_new_study_and_fixed_for_a_stored_one() -> None:
    assert resumed_seed(7, 0) == 7 and resumed_seed(None, 5) is None
    assert resumed_seed(7, 5) == resumed_seed(7, 5) != resumed_seed(7, 6)
    assert 0 <= resumed_seed(2**32 - 1, 10**6) < 2**32
