"""The MAML family sizes a model's lazy layers (nn.LazyLinear) on the first inputs it is given,
whichever call and path comes first."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from meta import MAML, MAMLFirstOrder, Reptile


def _lazy() -> nn.Module:
    return nn.Sequential(nn.LazyLinear(4), nn.ReLU(), nn.Linear(4, 1))


def _task() -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(3)
    return tuple(torch.randn(5, k, generator=g) for k in (3, 1, 3, 1))


@pytest.mark.parametrize("cls", [MAMLFirstOrder, Reptile])
def test_a_first_order_loop_sizes_lazy_layers_and_trains_them(cls) -> None:  # type: ignore[no-untyped-def]
    learner = cls(_lazy(), vectorize="loop")
    learner.meta_train_step([_task()])  # failed: uninitialized parameter in zeros_like
    before = learner.model[0].weight.detach().clone()
    learner.meta_train_step([_task()])
    assert before.shape == (4, 3) and not torch.equal(before, learner.model[0].weight)


def test_adapt_to_task_and_evaluate_size_lazy_layers_when_called_first() -> None:
    sx, sy, qx, qy = _task()
    weights = MAML(_lazy()).adapt_to_task(sx, sy)
    assert weights["0.weight"].shape == (4, 3)
    assert MAML(_lazy()).evaluate([(sx, sy, qx, qy)])["loss"].shape == (1,)
