"""MetaSGD learns one inner rate per parameter entry, so it needs its model's lazy layers sized:
an unsized one is refused naming the layer and what to do, and a sized one trains."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from meta import MetaSGD


def _model() -> nn.Module:
    return nn.Sequential(nn.Linear(3, 3), nn.LazyLinear(4), nn.Tanh(), nn.Linear(4, 1))  # tanh: no unit dead, every rate moves


def test_an_unsized_lazy_layer_is_refused_naming_it() -> None:
    with pytest.raises(ValueError, match=r"parameter '1\.weight' of LazyLinear '1' is not sized yet.*model\(x\)"):
        MetaSGD(_model())


def test_a_lazy_model_sized_by_one_call_trains() -> None:
    torch.manual_seed(0)  # the data, whatever ran before
    model = _model()
    model(torch.zeros(1, 3))
    msgd = MetaSGD(model, lr_inner=0.01)
    task = (torch.randn(5, 3), torch.randn(5, 1), torch.randn(5, 3), torch.randn(5, 1))
    msgd.meta_train_step([task])
    assert msgd.inner_lr("1.weight").shape == (4, 3)
    assert bool((msgd.inner_lr("1.weight") != 0.01).any())
