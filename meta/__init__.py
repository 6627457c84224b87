"""meta: the PyTorch meta-learning core (MAML family, few-shot, continual learning, optimisers, NAS).

Names are imported lazily, on first use, so that ``import meta`` stays cheap and each algorithm pays
only for what it uses. ``from meta import MAML`` works as usual.

Events (a refused step, a collapsed task) go to the standard-library loggers ``meta.*``, quiet unless
the application enables them (``logging.getLogger("meta").setLevel(logging.INFO)`` with a handler, or
``toolrouter``'s ``configure_logging``).
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

# the usual library setup, as ``toolrouter`` does: records stop here unless the application set up
# logging (without it, Python's last-resort handler would print warnings to standard error)
logging.getLogger("meta").addHandler(logging.NullHandler())

# public name -> module that defines it; each module adds its own names here.
_EXPORTS: dict[str, str] = {
    "BaseMetaLearner": "meta.base",
    "Task": "meta.base",
    "create_meta_batch": "meta.base",
    "MAML": "meta.maml",
    "MAMLFirstOrder": "meta.maml",
    "Reptile": "meta.maml",
    "MultiTaskMAML": "meta.maml",
    "MetaSGD": "meta.maml",
    "VmapUnsafeError": "meta.vmap_guard",
    "FewShotLearner": "meta.few_shot",
    "PrototypicalNetwork": "meta.few_shot",
    "RelationNetwork": "meta.few_shot",
    "MatchingNetwork": "meta.few_shot",
    "EpisodeSampler": "meta.data.episodes",
    "SinusoidTaskSampler": "meta.data.sinusoid",
    "load_omniglot": "meta.data.omniglot",
    "ContinualLearner": "meta.continual",
    "ContinualConfig": "meta.continual",
    "EWC": "meta.continual",
    "ExperienceReplay": "meta.continual",
    "LwF": "meta.continual",
    "ProgressiveNetwork": "meta.continual",
    "Progressive": "meta.continual",
    "Naive": "meta.continual",
    "Compose": "meta.continual",
    "Strategy": "meta.continual",
    "make_strategy": "meta.continual",
    "AccuracyMatrix": "meta.continual",
    "average_accuracy": "meta.continual",
    "backward_transfer": "meta.continual",
    "forward_transfer": "meta.continual",
    "forgetting": "meta.continual",
    "detect_collapse": "meta.continual",
    "CollapseReport": "meta.continual",
    "DriftAdapter": "meta.continual",
    "DuplicateTaskError": "meta.continual",
    "EmptyTaskError": "meta.continual",
    "UnknownTaskError": "meta.continual",
    "AdaptiveOptimizer": "meta.optimizer",
    "BayesianOptimizer": "meta.optimizer",
    "BayesianOptimizerConfig": "meta.optimizer",
    "AllTrialsFailedError": "meta.optimizer",
    "TrialPruned": "meta.optimizer",
    "NeuralArchitectureSearch": "meta.nas",
    "create_nas_search_space": "meta.nas",
    "create_nb201_search_space": "meta.nas",
    "benchmark_nas_algorithms": "meta.nas",
    "build_model_from_architecture": "meta.nas",
    "RegularizedEvolutionSampler": "meta.nas",
    "SurrogateSampler": "meta.nas",
    "NASBench201Benchmark": "meta.nas",
    "load_nasbench201": "meta.data.nasbench201",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'meta' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
