"""``DriftAdapter.adapt`` trains in training mode, then leaves each module of the model in the mode
it was in: a model serving in eval mode came back training, its dropout on for the next forward."""

from __future__ import annotations

import torch
from torch import nn

from meta import DriftAdapter


def test_adapt_leaves_each_module_in_the_mode_it_was_in() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 8), nn.Dropout(0.5), nn.Linear(8, 1)).eval()
    x = torch.randn(16, 3)
    DriftAdapter(model, steps=2).adapt(x, x.sum(dim=1))
    assert [m.training for m in model.modules()] == [False] * 4
    model.train()
    model[1].eval()  # frozen inside a model in training mode
    DriftAdapter(model, steps=2).adapt(x, x.sum(dim=1))
    assert [m.training for m in model.modules()] == [True, True, False, True]
