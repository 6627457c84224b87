"""Several search algorithms side by side on one space and one evaluation function."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import optuna

from meta._checks import check_count
from meta.nas.search import NeuralArchitectureSearch
from meta.nas.space import Architecture
from meta.optimizer import check_study_name


def benchmark_nas_algorithms(
    search_space: Any,
    eval_function: Callable[[Architecture], float],
    num_evaluations: int = 50,
    algorithms: Sequence[str] = ("random", "bayesian", "evolutionary"),
    seed: int = 0,
    **nas_options: Any,
) -> dict[str, dict[str, Any]]:
    """Run each algorithm for ``num_evaluations`` evaluations; per algorithm its best architecture, best
    score, the best-so-far curve (one value per evaluation, a failed one included: ``-inf`` until one
    succeeds) and the wall time. Each algorithm is named once; every search is made, and its options
    checked, before the first one runs. ``nas_options`` go to each
    :class:`NeuralArchitectureSearch`; given a ``study_name``, each algorithm keeps its trials in a
    study of its own, ``f"{study_name}-{algorithm}"``, so that none starts from another's trials.

    Example:
        >>> from meta.nas.space import create_nb201_search_space
        >>> out = benchmark_nas_algorithms(create_nb201_search_space(), lambda a: a["ops"].count("skip_connect"), 12)
        >>> sorted(out), len(out["random"]["curve"])
        (['bayesian', 'evolutionary', 'random'], 12)
    """
    # a list once: a generator was spent by the check for repeats, and no search ran (an empty result)
    names = None if isinstance(algorithms, str) else list(algorithms)
    if not names:
        raise ValueError(f"algorithms: give a sequence of at least one algorithm name, got {algorithms!r}")
    repeated = sorted({a for a in names if names.count(a) > 1})
    if repeated:
        # Results are keyed by name: a second run would replace the first.
        raise ValueError(f"algorithms: each name once, got {names!r} (repeated: {repeated})")
    # checked first: the default population is derived from it, and was the field an error named
    num_evaluations = check_count("num_evaluations", num_evaluations, low=1)
    # Every search is made (its options checked) before any runs: a mistake in the last algorithm's
    # name or options was found only after the searches before it had run to their end.
    searches: dict[str, NeuralArchitectureSearch] = {}
    for algorithm in names:
        options: dict[str, Any] = {"population_size": min(20, max(2, num_evaluations // 5)), **nas_options}
        if options.get("study_name") is not None:
            # one study for all would hand each algorithm the trials of those before it; a blank
            # name is refused as a search refuses it, not made "-random"
            options["study_name"] = f"{check_study_name(options['study_name'])}-{algorithm}"
        searches[algorithm] = NeuralArchitectureSearch(search_space, algorithm, seed=seed, **options)
    results: dict[str, dict[str, Any]] = {}
    for algorithm, nas in searches.items():
        earlier = len(nas.study.get_trials(deepcopy=False))
        started = time.perf_counter()
        best_arch, best_score = nas.search_architecture(eval_function, num_evaluations)
        curve, best = [], float("-inf")
        # From the study, not nas.history: a failed evaluation keeps the best so far (-inf before any success),
        # so the curve has one value per evaluation; a repeat answered from the study is no evaluation.
        for trial in nas.study.get_trials(deepcopy=False)[earlier:]:
            if trial.user_attrs.get("repeat"):
                continue
            if trial.state == optuna.trial.TrialState.COMPLETE:
                best = max(best, trial.value)
            curve.append(best)
        results[algorithm] = {
            "best_architecture": best_arch,
            "best_performance": best_score,
            "curve": curve,
            "wall_time_s": time.perf_counter() - started,
        }
    return results
