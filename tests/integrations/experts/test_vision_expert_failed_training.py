"""A ``VisionExpert`` whose encoder fails in ``meta_train`` serves on as before: the recipe trains
channels-last, and left the encoder so, and an encoder that flattens with ``.view`` then failed on
every input. The failure names the recipe's option (torch's own named neither it nor the fix)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from integrations.experts import VisionExpert
from meta.protonet_recipe import ProtoNetRecipe

X = torch.rand(12, 3, 8, 8, generator=torch.Generator().manual_seed(0))
Y = torch.arange(3).repeat_interleave(4)


class ViewEncoder(nn.Module):
    """Flattens with ``.view``, as many encoders do: it needs its outputs in the usual layout."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.conv(x)
        return z.view(len(z), -1)


def test_a_vision_expert_serves_on_after_a_training_its_encoder_failed() -> None:
    torch.manual_seed(0)
    expert = VisionExpert(ViewEncoder(), image_shape=(3, 8, 8))
    recipe = ProtoNetRecipe(n_way=3, n_query=1, episodes=2, rotation_classes=False)
    with pytest.raises(ValueError, match="recipe.channels_last: .* pass a recipe with channels_last=False"):
        expert.meta_train(X, Y, recipe)  # channels-last outputs cannot be viewed flat
    expert.adapt({"a": [X[0]], "b": [X[4]]}, task="t")
    assert expert.predict([X[0]], task="t") == ["a"]
    assert expert.meta_train(X, Y, recipe.model_copy(update={"channels_last": False})).episodes == 2
