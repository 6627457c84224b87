"""``VisionExpert.meta_train`` refuses what it cannot train on before any episode: images with NaN
or infinite values (the first episode failed after BatchNorm's statistics had taken them in, which
left the encoder answering NaN), a NaN label or too few images per class for the recipe's
episodes (the episodes' sampler refused either with a plain ValueError, where the docstring promises
ExpertInputError), a recipe or an ``on_episode`` of another
kind; the encoder is as it was."""

from __future__ import annotations

import pytest
import torch

from integrations.experts import ExpertInputError, VisionExpert
from meta.backbones import conv4
from meta.protonet_recipe import ProtoNetRecipe

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _data() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return torch.rand(60, 1, 8, 8, generator=g), torch.arange(6).repeat_interleave(10)


def _bad(value: float) -> torch.Tensor:
    images = _data()[0]
    images[7, 0, 3, 3] = value
    return images


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda e, x, y: e.meta_train(_bad(float("nan")), y, ProtoNetRecipe(n_way=3, episodes=2)), ExpertInputError, r"images\[7\]: the image holds NaN"),
        (lambda e, x, y: e.meta_train(_bad(float("inf")), y, ProtoNetRecipe(n_way=3, episodes=2)), ExpertInputError, r"images\[7\]: the image holds NaN or infinite"),
        (lambda e, x, y: e.meta_train(x, torch.where(torch.arange(60) == 5, float("nan"), y.float()), ProtoNetRecipe(n_way=3, episodes=2)),
         ExpertInputError, r"labels\[5\]: NaN is no class label"),
        (lambda e, x, y: e.meta_train(x, torch.arange(60) // 4, ProtoNetRecipe(n_way=3, n_query=4, episodes=2, rotation_classes=False)),
         ExpertInputError, r"labels: 0 of the 15 classes have k_shot \+ n_query = 5 images or more, and 3-way episodes \(recipe.n_way\) need 3"),
        (lambda e, x, y: e.meta_train(x, y, ProtoNetRecipe(n_way=30, episodes=2)),
         ExpertInputError, r"labels: 6 of the 6 classes have k_shot \+ n_query = 6 images or more \(4 classes each with rotation_classes\), and 30-way"),
        (lambda e, x, y: e.meta_train(x, y, {"episodes": 2}), TypeError, "recipe: expected a meta.protonet_recipe.ProtoNetRecipe, got dict"),
        (lambda e, x, y: e.meta_train(x, y, ProtoNetRecipe(n_way=3, episodes=2), on_episode=3), TypeError, "on_episode: expected a function"),
    ],
    ids=["nan", "inf", "nan label", "few per class", "few classes", "recipe", "on_episode"],
)
def test_what_cannot_be_trained_on_is_named_and_the_encoder_is_unchanged(call, error, message) -> None:  # type: ignore[no-untyped-def]
    torch.manual_seed(0)
    expert = VisionExpert(conv4(4), image_shape=(1, 8, 8))
    before = {k: v.clone() for k, v in expert.model.state_dict().items()}  # BatchNorm's statistics too
    with pytest.raises(error, match=message):
        call(expert, *_data())
    assert all(torch.equal(before[k], v) for k, v in expert.model.state_dict().items())
