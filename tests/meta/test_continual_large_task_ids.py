"""Task ids are labels, not sizes: a large one (a hash, a date) costs what a small one does."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from meta import ContinualLearner


def _task(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(24, 6, generator=g)
    return x, (x[:, 0] > 0).long() + 2 * seed


@pytest.mark.parametrize("strategy", ["ewc+replay", "lwf"])
def test_a_large_task_id_trains_predicts_and_evaluates_in_the_task_setting(strategy: str) -> None:
    torch.manual_seed(0)
    learner = ContinualLearner(nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 4)), strategy=strategy,
                               setting="task", buffer_size=10)
    big = 2**40  # a mask table up to this id would need terabytes
    learner.train_task(_task(0), 3)
    learner.train_task(_task(1), big)
    x, y = _task(1)
    assert set(learner.predict(x, big).tolist()) <= {2, 3}  # masked to the task's own classes
    assert set(learner.predict(x, 3).tolist()) <= {0, 1}
    assert sorted(learner.evaluate_all_tasks({3: _task(0), big: _task(1)})["accuracy"]) == [3, big]


def test_a_task_id_beyond_int64_is_refused_by_name() -> None:
    learner = ContinualLearner(nn.Linear(6, 4), strategy="naive")
    with pytest.raises(ValueError, match=r"task_id: expected an integer in \[0, 9223372036854775807\], got 9223372036854775808"):
        learner.train_task(_task(0), 2**63)
    assert learner.trained_tasks == []
