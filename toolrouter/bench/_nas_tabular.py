"""NAS-Bench-201 runs for ``toolrouter bench nas``: one search per (algorithm, seed), traced by query."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from meta.nas import NASBench201Benchmark, NeuralArchitectureSearch

# name in the tables -> (NeuralArchitectureSearch algorithm, options)
ALGORITHMS: dict[str, tuple[str, dict[str, Any]]] = {
    "random": ("random", {}),
    "optuna-tpe": ("tpe", {}),
    "evolution-plain": ("evolutionary", {"population_size": 20, "tournament_size": 5, "mutation": "random"}),
    "evolution": ("evolutionary", {"population_size": 20, "tournament_size": 5, "mutation": "guided"}),
    "bayesian": ("bayesian", {"n_startup_trials": 10}),
    "bayesian-2starts": ("bayesian", {"n_startup_trials": 10, "n_starts": 2}),
    "optuna-gp": ("optuna_gp", {}),
}


@dataclass
class Trace:
    """Test accuracy of the best-validation cell after each budget, for one run."""

    algorithm: str
    seed: int
    test_at: dict[int, float]
    wall_time_s: float


def run_one(bench: NASBench201Benchmark, name: str, seed: int, budgets: list[int]) -> Trace:
    """Search with ``name`` for max(budgets) distinct queries; the best-validation cell's test accuracy."""
    algorithm, options = ALGORITHMS[name]
    nas = NeuralArchitectureSearch(bench.space, algorithm, seed=seed, **options)
    started = time.perf_counter()
    nas.search_architecture(bench, max(budgets))
    elapsed = time.perf_counter() - started
    best_val, best_test, test_at = -np.inf, float("nan"), {}
    for k, (arch, val) in enumerate(nas.history, start=1):
        if val > best_val:
            best_val, best_test = val, bench.test_accuracy(arch)
        if k in budgets:
            test_at[k] = best_test
    return Trace(name, seed, test_at, elapsed)
