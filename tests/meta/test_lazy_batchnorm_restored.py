"""A LazyBatchNorm first called inside a pass that leaves the buffers as they were (adapting to a
task, a sizing or checking pass) ends with fresh running statistics: its buffers had no value to
save, and kept the statistics of that pass's data."""

from __future__ import annotations

import torch
from torch import nn

from meta import MAML
from meta.base import buffers_restored


def _fresh(norm: nn.Module) -> bool:
    return (
        torch.equal(norm.running_mean, torch.zeros(4))
        and torch.equal(norm.running_var, torch.ones(4))
        and int(norm.num_batches_tracked) == 0
    )


def test_buffers_restored_leaves_a_lazy_batchnorm_materialised_in_it_fresh() -> None:
    model = nn.Sequential(nn.Linear(3, 4), nn.LazyBatchNorm1d())
    with buffers_restored(model):
        model(torch.randn(6, 3) + 3)
    assert _fresh(model[1])
    with buffers_restored(model, on_success=False):  # kept when the block succeeds
        model(torch.randn(6, 3) + 3)
    assert int(model[1].num_batches_tracked) == 1


def test_adapt_to_task_leaves_a_lazy_batchnorm_as_it_was() -> None:
    maml = MAML(nn.Sequential(nn.LazyLinear(4), nn.LazyBatchNorm1d(), nn.ReLU(), nn.Linear(4, 1)))
    maml.adapt_to_task(torch.randn(6, 3) + 3, torch.randn(6, 1))
    assert _fresh(maml.model[1])
