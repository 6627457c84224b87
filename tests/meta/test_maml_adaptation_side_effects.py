"""Adapting to a task and evaluating tasks leave the meta-learned model as it was, including the
running statistics that BatchNorm updates in place in training mode."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from meta import MAML, MAMLFirstOrder, MetaSGD, Reptile


def _tasks(n: int, seed: int) -> list[tuple[torch.Tensor, ...]]:
    g = torch.Generator().manual_seed(seed)
    return [(torch.randn(6, 3, generator=g) + 5, torch.randn(6, 1, generator=g), torch.randn(6, 3, generator=g) + 5, torch.randn(6, 1, generator=g)) for _ in range(n)]


@pytest.mark.parametrize("cls", [MAML, MAMLFirstOrder, MetaSGD, Reptile])
def test_adapt_and_evaluate_leave_batch_norm_running_statistics_unchanged(cls) -> None:
    torch.manual_seed(0)
    learner = cls(nn.Sequential(nn.Linear(3, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 1)))
    learner.meta_train_step(_tasks(2, 0))
    before = {k: v.clone() for k, v in learner.state_dict().items()}
    probe = torch.randn(4, 3)
    learner.model.eval()
    prediction = learner.model(probe)
    learner.model.train()
    task = _tasks(1, 1)[0]  # inputs far from the training ones: running statistics would move
    learner.adapt_to_task(task[0], task[1])
    learner.evaluate(_tasks(3, 2))
    for k, v in learner.state_dict().items():
        assert torch.equal(v, before[k]), k
    learner.model.eval()
    assert torch.equal(learner.model(probe), prediction)


def test_predicting_with_adapted_weights_leaves_batch_norm_running_statistics_unchanged() -> None:
    torch.manual_seed(0)
    learner = MAML(nn.Sequential(nn.Linear(3, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 1)))
    task = _tasks(1, 1)[0]
    weights = learner.adapt_to_task(task[0], task[1])
    before = {k: v.clone() for k, v in learner.state_dict().items()}
    assert learner._forward_with_weights(task[2], weights).shape == (6, 1)
    for k, v in learner.state_dict().items():
        assert torch.equal(v, before[k]), k
