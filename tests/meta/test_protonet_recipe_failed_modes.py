"""A ``train_protonet`` call that fails leaves each module of the encoder in the mode it found it
in: it was left in training mode (dropout on, BatchNorm updating its statistics at every later
forward pass), and only the experts, which keep modes themselves, put it back."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from meta.base import NonFiniteLossError
from meta.protonet_recipe import ProtoNetRecipe, train_protonet

X = torch.rand(12, 1, 4, 4, generator=torch.Generator().manual_seed(0))
Y = torch.arange(6).repeat_interleave(2)
RECIPE = ProtoNetRecipe(n_way=3, n_query=1, episodes=3, rotation_classes=False, augment=False, precision="float32")


class Stop(Exception):
    pass


def _encoder() -> nn.Sequential:
    return nn.Sequential(nn.Flatten(), nn.Linear(16, 8), nn.BatchNorm1d(8), nn.Dropout(0.5))


def _stop(episode: int, metrics: dict) -> None:
    raise Stop


def test_a_training_stopped_midway_leaves_an_encoder_in_eval_mode_so() -> None:
    torch.manual_seed(0)
    encoder = _encoder().eval()
    with pytest.raises(Stop):
        train_protonet(X, Y, RECIPE, encoder=encoder, on_episode=_stop)
    assert not any(m.training for m in encoder.modules())


def test_a_refused_episode_leaves_each_module_in_its_own_mode() -> None:
    torch.manual_seed(0)
    encoder = _encoder().eval()
    encoder[3].train()  # dropout kept on in an encoder otherwise in eval mode (Monte Carlo dropout)
    modes = [m.training for m in encoder.modules()]
    with pytest.raises(NonFiniteLossError):
        train_protonet(X * float("nan"), Y, RECIPE, encoder=encoder)
    assert [m.training for m in encoder.modules()] == modes
