"""A model with BatchNorm trains on a task of any size: the last batch is never a single sample."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from meta import ContinualLearner


@pytest.mark.parametrize("strategy", ["naive", "ewc", "lwf"])
def test_a_task_one_sample_over_a_whole_number_of_batches_trains(strategy: str) -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))
    learner = ContinualLearner(model, strategy=strategy, batch_size=8)
    x = torch.randn(17, 4, generator=torch.Generator().manual_seed(0))  # 8 + 8 + 1
    result = learner.train_task((x, (x[:, 0] > 0).long()), 0, num_epochs=2)
    assert result["samples"] == 17 and len(result["losses"]) == 2 and learner.trained_tasks == [0]
