"""An episode ``train_protonet`` refuses (a NaN loss) applies no update, to BatchNorm's running
statistics either: its forward pass had already taken the NaN in, and the encoder answered NaN
for every input from then on. One refused for a NaN gradient leaves no NaN in the parameters'
``.grad``, where the caller's next optimiser step would take it."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from meta.base import NonFiniteLossError
from meta.protonet_recipe import ProtoNetRecipe, train_protonet


def test_a_refused_episode_leaves_the_running_statistics_as_they_were() -> None:
    torch.manual_seed(0)
    encoder = nn.Sequential(nn.Flatten(), nn.Linear(16, 8), nn.BatchNorm1d(8))
    before = {k: v.clone() for k, v in encoder.state_dict().items()}
    images = torch.rand(12, 1, 4, 4, generator=torch.Generator().manual_seed(0))
    images[0] = float("nan")
    recipe = ProtoNetRecipe(n_way=6, n_query=1, episodes=2, rotation_classes=False, augment=False, precision="float32")
    with pytest.raises(NonFiniteLossError, match="at episode 1"):
        train_protonet(images, torch.arange(6).repeat_interleave(2), recipe, encoder=encoder)
    assert all(torch.equal(before[k], v) for k, v in encoder.state_dict().items())


class _Root(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.abs().sqrt()  # a gradient of 0 * inf = NaN at 0, for a finite loss


def test_a_refused_gradient_is_not_left_in_the_parameters() -> None:
    encoder = nn.Sequential(nn.Flatten(), nn.Linear(16, 8), _Root())
    for p in encoder[1].parameters():
        nn.init.zeros_(p)
    images = torch.rand(12, 1, 4, 4, generator=torch.Generator().manual_seed(0))
    recipe = ProtoNetRecipe(n_way=6, n_query=1, episodes=2, rotation_classes=False, augment=False, precision="float32")
    with pytest.raises(NonFiniteLossError, match="a gradient is NaN or infinite at episode 1"):
        train_protonet(images, torch.arange(6).repeat_interleave(2), recipe, encoder=encoder)
    assert all(p.grad is None for p in encoder.parameters())
