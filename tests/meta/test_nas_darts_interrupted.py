"""A DARTS search resumed after an interrupted evaluation evaluates that cell again, as the other
algorithms do: the cell was queued with Optuna's skip_if_exists, which found its failed trial and
skipped it, so the supernet's best cell was never evaluated and a random cell took its place."""

from __future__ import annotations

import optuna
import pytest
import torch

from meta.nas import NeuralArchitectureSearch, create_nb201_search_space


def _nas(storage: optuna.storages.BaseStorage) -> NeuralArchitectureSearch:
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(8, 1, 4, 4, generator=g), torch.randint(0, 3, (8,), generator=g)
    space = create_nb201_search_space((1, 4, 4), 3, channels=2)
    return NeuralArchitectureSearch(
        space, "darts", seed=0, darts_data=(x, y, x, y), darts_options={"epochs": 1}, storage=storage, study_name="s"
    )


def test_a_resumed_darts_search_evaluates_the_interrupted_cell() -> None:
    storage = optuna.storages.InMemoryStorage()

    def interrupted(arch: dict) -> float:
        raise KeyboardInterrupt

    first = _nas(storage)
    with pytest.raises(KeyboardInterrupt):
        first.search_architecture(interrupted, num_evaluations=2)
    ranked = [a["ops"] for a in first.darts_result.ranked_architectures]
    evaluated: list[list[str]] = []
    _nas(storage).search_architecture(lambda arch: evaluated.append(arch["ops"]) or 1.0, num_evaluations=2)
    assert sorted(evaluated) == sorted(ranked[:2])  # the best two cells, the interrupted one included
