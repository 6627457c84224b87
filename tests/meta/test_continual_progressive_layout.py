"""A progressive network is built only from an MLP it computes the same function as: Linear layers
with one activation between each two. An MLP without an activation between two layers became a
ReLU network, and one with an activation after its last layer lost it."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from meta import ContinualLearner
from meta.continual import ProgressiveNetwork


@pytest.mark.parametrize(
    "layers",
    [
        [nn.Linear(4, 8), nn.Linear(8, 3)],
        [nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3), nn.ReLU()],
        [nn.Linear(4, 8), nn.ReLU(), nn.ReLU(), nn.Linear(8, 3)],
    ],
    ids=["no activation", "activation after the last layer", "two activations"],
)
def test_an_mlp_laid_out_otherwise_is_refused_naming_its_layers(layers: list[nn.Module]) -> None:
    with pytest.raises(TypeError, match=r"one activation \(gelu, relu, tanh\) between each two, got \['Linear'"):
        ContinualLearner(nn.Sequential(*layers), strategy="progressive", setting="task")


@pytest.mark.parametrize("layers", [[nn.Linear(4, 3)], [nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 6), nn.Tanh(), nn.Linear(6, 3)]])
def test_the_first_column_computes_what_the_mlp_does(layers: list[nn.Module]) -> None:
    torch.manual_seed(0)
    mlp = nn.Sequential(*layers)
    net = ProgressiveNetwork.from_mlp(mlp)
    net.add_column(0)
    x = torch.randn(5, 4)
    torch.testing.assert_close(net(x, 0), mlp(x))
