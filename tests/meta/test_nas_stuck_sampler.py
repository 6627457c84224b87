"""A sampler that proposes only architectures the study has evaluated (Optuna's GP sampler does so in a
small space, each ask slower than the last) is taken as stuck after a run of such proposals: the next
trial is a random architecture not yet evaluated, so the search goes on instead of asking hundreds of
times for nothing."""

from __future__ import annotations

from typing import Any

import optuna

from meta.nas import NeuralArchitectureSearch, create_nas_search_space
from meta.nas.search import STUCK_AFTER_REPEATS


class ProposesOneArchitecture(optuna.samplers.BaseSampler):
    """Every parameter at its first choice, every time: the same architecture again and again."""

    def infer_relative_search_space(self, study, trial) -> dict[str, Any]:
        return {}

    def sample_relative(self, study, trial, search_space) -> dict[str, Any]:
        return {}

    def sample_independent(self, study, trial, param_name, param_distribution) -> Any:
        if isinstance(param_distribution, optuna.distributions.CategoricalDistribution):
            return param_distribution.choices[0]
        return param_distribution.low


def test_a_stuck_sampler_gives_way_to_unseen_architectures_until_the_space_is_done() -> None:
    space = create_nas_search_space((4,), 2, max_layers=2, operations=("dense",), widths=(2, 4, 8), activations=("relu",))
    nas = NeuralArchitectureSearch(space, "tpe", seed=0)
    nas._sampler = lambda stored_trials: ProposesOneArchitecture()  # type: ignore[method-assign]
    evaluated: list[str] = []

    def evaluate(arch: dict) -> float:
        evaluated.append(nas.space.key(arch))
        return float(sum(layer["width"] for layer in arch["layers"]))

    arch, score = nas.search_architecture(evaluate, num_evaluations=12)
    assert len(evaluated) == len(set(evaluated)) == nas.space.size == 12
    assert score == 16.0
    # one stuck run of repeats, at most, before each architecture after the first
    assert len(nas.study.trials) <= 12 + 11 * STUCK_AFTER_REPEATS
