"""Images too small for the default Conv-4 encoder are refused naming them: its four poolings leave
nothing of a side under 16 pixels, and torch failed at the first episode with "Output size is too
small" (the shipped 8x8 digits among them)."""

from __future__ import annotations

import pytest
import torch

from meta.backbones import conv4
from meta.protonet_recipe import ProtoNetRecipe, train_protonet

RECIPE = ProtoNetRecipe(n_way=3, n_query=1, episodes=1, rotation_classes=False, precision="float32")


def test_images_under_16_pixels_a_side_are_refused_for_the_default_encoder() -> None:
    x, y = torch.rand(12, 1, 8, 8), torch.arange(12) % 3
    with pytest.raises(ValueError, match="images are 8x8; the default Conv-4 encoder .* needs at least 16x16"):
        train_protonet(x, y, RECIPE)


def test_an_encoder_of_ones_own_takes_them() -> None:
    x, y = torch.rand(12, 1, 8, 8), torch.arange(12) % 3
    encoder = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 4))
    assert train_protonet(x, y, RECIPE, encoder=encoder).episodes == 1
    assert train_protonet(torch.rand(12, 1, 16, 16), y, RECIPE, encoder=conv4(4)).episodes == 1
