"""compute_meta_gradients' total_tasks: the count the meta-loss is averaged over (distributed shards)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from meta import MAML, MetaSGD, MultiTaskMAML, Reptile


def _batch() -> list[tuple[torch.Tensor, ...]]:
    g = torch.Generator().manual_seed(0)
    return [tuple(torch.randn(5, 1, generator=g) for _ in range(4)) for _ in range(2)]


@pytest.mark.parametrize("cls", [MAML, MetaSGD, Reptile, MultiTaskMAML])
@pytest.mark.parametrize("bad", [0, -2, 1, 2.5, True])
def test_a_total_below_the_batch_or_not_a_count_is_refused_before_any_gradient(cls, bad) -> None:
    torch.manual_seed(0)
    learner = cls(nn.Linear(1, 1), vectorize="loop")
    with pytest.raises(ValueError, match=f"total_tasks: expected an integer >= 2, got {bad!r}"):
        learner.compute_meta_gradients(_batch(), total_tasks=bad)
    assert all(p.grad is None for p in learner.meta_parameters())


@pytest.mark.parametrize("cls", [MAML, Reptile])
def test_a_larger_total_scales_this_shards_share_of_the_gradient(cls) -> None:
    torch.manual_seed(0)
    learner = cls(nn.Linear(1, 1), vectorize="loop")
    learner.compute_meta_gradients(_batch())
    alone = [p.grad.clone() for p in learner.meta_parameters()]
    learner.zero_meta_grad()
    learner.compute_meta_gradients(_batch(), total_tasks=4)
    for a, shared in zip(alone, (p.grad for p in learner.meta_parameters())):
        torch.testing.assert_close(shared, a / 2)


def test_multitask_maml_refuses_a_shard_of_a_larger_batch() -> None:
    # its task weights are a softmax over every task's loss: a shard's would be weighed among its own
    torch.manual_seed(0)
    learner = MultiTaskMAML(nn.Linear(1, 1), vectorize="loop", temperature=0.1)
    with pytest.raises(ValueError, match="total_tasks: 4 for a meta-batch of 2 tasks; MultiTaskMAML weighs each task"):
        learner.compute_meta_gradients(_batch(), total_tasks=4)
    assert all(p.grad is None for p in learner.meta_parameters())
    learner.compute_meta_gradients(_batch(), total_tasks=2)
    whole = [p.grad.clone() for p in learner.meta_parameters()]
    learner.zero_meta_grad()
    learner.compute_meta_gradients(_batch())
    for a, b in zip(whole, (p.grad for p in learner.meta_parameters())):
        torch.testing.assert_close(a, b)
