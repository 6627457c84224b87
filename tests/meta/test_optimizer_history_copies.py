"""The objective of a Bayesian or architecture search gets its own copy of the trial's parameters:
what it changes there (a key popped, a layer dropped) no longer rewrites the search's history."""

from __future__ import annotations

import optuna

from meta.nas import NeuralArchitectureSearch, create_nas_search_space
from meta.optimizer import BayesianOptimizer


def test_bayesian_history_keeps_the_parameters_the_trial_drew() -> None:
    opt = BayesianOptimizer({"lr": (1e-4, 1e-1), "layers": (1, 4)}, sampler="random", seed=0, direction="minimize")

    def objective(params: dict) -> float:
        lr = params.pop("lr")
        params["batch_size"] = 32
        return lr * params["layers"]

    opt.optimize(objective, n_iterations=3)
    drawn = [t.params for t in opt.study.trials]
    assert [params for params, _ in opt.history] == drawn


def test_nas_history_keeps_the_architecture_evaluated() -> None:
    space = create_nas_search_space((4,), 2, max_layers=3, widths=(4, 8))
    nas = NeuralArchitectureSearch(space, "random", seed=0)

    def evaluate(arch: dict) -> float:
        depth = len(arch["layers"])
        arch["layers"].clear()
        return float(depth)

    nas.search_architecture(evaluate, num_evaluations=4)
    evaluated = [nas.space.decode(t.params) for t in nas.study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert [arch for arch, _ in nas.history] == evaluated
    assert all(len(arch["layers"]) == score for arch, score in nas.history)
