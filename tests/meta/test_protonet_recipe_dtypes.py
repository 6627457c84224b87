"""train_protonet reads float images of any precision in the encoder's."""

from __future__ import annotations

import pytest
import torch

from meta.backbones import conv4
from meta.protonet_recipe import ProtoNetRecipe, train_protonet


@pytest.mark.parametrize("precision", ["float32", "auto"])
def test_float64_images_train_as_their_float32_values_do(precision: str) -> None:
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(40, 1, 28, 28, generator=g), torch.arange(40) % 10
    recipe = ProtoNetRecipe(n_way=5, n_query=2, episodes=2, rotation_classes=False, precision=precision)
    runs = []
    for images in (x, x.double()):
        torch.manual_seed(0)
        seen: list[float] = []
        result = train_protonet(images, y, recipe, encoder=conv4(8), on_episode=lambda _, m: seen.append(m["loss"]))
        runs.append((seen, result.network.state_dict()))
    assert runs[0][0] == runs[1][0]
    for k, v in runs[0][1].items():
        assert torch.equal(v, runs[1][1][k]), k
