"""``train_protonet`` trains channels-last (``recipe.channels_last``) and puts the encoder back in
the usual layout when the training fails too: left channels-last, the encoder's outputs were
channels-last, and an encoder that flattens them with ``.view`` failed on every call after
(``tests/integrations/experts/test_vision_expert_failed_training.py``)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from meta.protonet_recipe import ProtoNetRecipe, train_protonet

X = torch.rand(12, 3, 8, 8, generator=torch.Generator().manual_seed(0))
Y = torch.arange(3).repeat_interleave(4)
RECIPE = ProtoNetRecipe(n_way=3, n_query=1, episodes=2, rotation_classes=False, precision="float32")


class Stop(Exception):
    pass


def test_a_stopped_training_leaves_the_encoder_in_the_usual_layout() -> None:
    torch.manual_seed(0)
    encoder = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten())

    def stop(episode: int, metrics: dict) -> None:
        raise Stop

    with pytest.raises(Stop):
        train_protonet(X, Y, RECIPE, encoder=encoder, on_episode=stop)
    assert all(p.is_contiguous() for p in encoder.parameters())
