"""A model whose parameters are of several dtypes trains distributed as it does in one process
(one gloo process)."""

from __future__ import annotations

import torch
from torch import nn

from meta import MAML
from meta.distributed import DistributedMetaTrainer


class _Float64Head(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body, self.head = nn.Linear(1, 4), nn.Linear(4, 1).double()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(torch.tanh(self.body(x)).double()).float()


def test_a_model_of_mixed_dtypes_takes_the_step_one_process_takes(one_process_group: None) -> None:
    gen = torch.Generator().manual_seed(0)
    tasks = [tuple(torch.randn(3, 1, generator=gen) for _ in range(4)) for _ in range(2)]
    learners = []
    for _ in range(2):
        torch.manual_seed(0)
        learners.append(MAML(_Float64Head(), vectorize="loop"))
    single, distributed = learners
    single.meta_train_step(tasks)
    DistributedMetaTrainer(distributed).meta_train_step(tasks)
    for (name, a), b in zip(single.model.named_parameters(), distributed.model.parameters()):
        assert b.dtype == a.dtype, name
        torch.testing.assert_close(b, a, msg=name)
    assert distributed.meta_step_count == 1
