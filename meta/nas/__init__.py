"""Neural architecture search: spaces, samplers on Optuna, DARTS, tabular NAS-Bench-201, benchmarks.

One idea per module: :mod:`~meta.nas.space` (what an architecture is), :mod:`~meta.nas.builder` (an
architecture as an ``nn.Module``), :mod:`~meta.nas.samplers` (regularised evolution and Bayesian search as
Optuna samplers), :mod:`~meta.nas.darts` (differentiable search), :mod:`~meta.nas.tabular`
(NAS-Bench-201 lookups), :mod:`~meta.nas.search` (the :class:`NeuralArchitectureSearch` entry point) and
:mod:`~meta.nas.benchmark` (several algorithms side by side).
"""

from __future__ import annotations

from meta.nas.benchmark import benchmark_nas_algorithms
from meta.nas.builder import build_model_from_architecture
from meta.nas.samplers import RegularizedEvolutionSampler, SurrogateSampler
from meta.nas.search import ALGORITHMS, NeuralArchitectureSearch
from meta.nas.space import (
    ArchitectureSpace,
    CellSearchSpace,
    LayerSearchSpace,
    NASSearchSpaceConfig,
    NB201SpaceConfig,
    create_nas_search_space,
    create_nb201_search_space,
    make_space,
)
from meta.nas.tabular import NASBench201Benchmark

__all__ = [
    "ALGORITHMS",
    "ArchitectureSpace",
    "CellSearchSpace",
    "LayerSearchSpace",
    "NASBench201Benchmark",
    "NASSearchSpaceConfig",
    "NB201SpaceConfig",
    "NeuralArchitectureSearch",
    "RegularizedEvolutionSampler",
    "SurrogateSampler",
    "benchmark_nas_algorithms",
    "build_model_from_architecture",
    "create_nas_search_space",
    "create_nb201_search_space",
    "make_space",
]
