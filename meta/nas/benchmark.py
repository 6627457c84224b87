"""Several search algorithms side by side on one space and one evaluation function."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from meta.nas.search import NeuralArchitectureSearch
from meta.nas.space import Architecture


def benchmark_nas_algorithms(
    search_space: Any,
    eval_function: Callable[[Architecture], float],
    num_evaluations: int = 50,
    algorithms: Sequence[str] = ("random", "bayesian", "evolutionary"),
    seed: int = 0,
    **nas_options: Any,
) -> dict[str, dict[str, Any]]:
    """Run each algorithm for ``num_evaluations`` evaluations; per algorithm its best architecture, best
    score, the best-so-far curve (one value per evaluation) and the wall time.

    Example:
        >>> from meta.nas.space import create_nb201_search_space
        >>> out = benchmark_nas_algorithms(create_nb201_search_space(), lambda a: a["ops"].count("skip_connect"), 12)
        >>> sorted(out), len(out["random"]["curve"])
        (['bayesian', 'evolutionary', 'random'], 12)
    """
    if not algorithms:
        raise ValueError("algorithms: give at least one algorithm")
    results: dict[str, dict[str, Any]] = {}
    for algorithm in algorithms:
        options: Mapping[str, Any] = {"population_size": min(20, max(2, num_evaluations // 5)), **nas_options}
        nas = NeuralArchitectureSearch(search_space, algorithm, seed=seed, **options)
        started = time.perf_counter()
        best_arch, best_score = nas.search_architecture(eval_function, num_evaluations)
        curve, best = [], float("-inf")
        for _, value in nas.history:
            best = max(best, value)
            curve.append(best)
        results[algorithm] = {
            "best_architecture": best_arch,
            "best_performance": best_score,
            "curve": curve,
            "wall_time_s": time.perf_counter() - started,
        }
    return results
