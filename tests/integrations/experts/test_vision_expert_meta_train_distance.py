"""``VisionExpert.meta_train`` trains its encoder for the distance the expert serves with: a cosine
expert was trained with euclidean prototypes (``train_protonet`` always built a euclidean network),
so the encoder learned for one score and answered with the other."""

from __future__ import annotations

import pytest
import torch

from integrations.experts import ExpertInputError, VisionExpert
from meta.backbones import conv4
from meta.protonet_recipe import ProtoNetRecipe, train_protonet

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _data() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return torch.rand(60, 1, 16, 16, generator=g), torch.arange(6).repeat_interleave(10)


@pytest.mark.parametrize("distance", ["euclidean", "cosine"])
def test_the_encoder_is_meta_trained_for_the_experts_distance(distance: str) -> None:
    torch.manual_seed(0)
    expert = VisionExpert(conv4(4), image_shape=(1, 16, 16), distance=distance)
    result = expert.meta_train(*_data(), ProtoNetRecipe(n_way=3, episodes=2, distance=distance))
    assert result.network.distance == distance and expert.distance == distance


def test_a_recipe_of_the_other_distance_is_refused_and_the_encoder_is_unchanged() -> None:
    torch.manual_seed(0)
    expert = VisionExpert(conv4(4), image_shape=(1, 16, 16), distance="cosine")
    before = {k: v.clone() for k, v in expert.model.state_dict().items()}
    with pytest.raises(ExpertInputError, match="recipe: its distance 'euclidean' is not the expert's 'cosine'"):
        expert.meta_train(*_data(), ProtoNetRecipe(n_way=3, episodes=2))
    assert all(torch.equal(before[k], v) for k, v in expert.model.state_dict().items())


def test_train_protonet_builds_the_recipes_distance() -> None:
    images, labels = _data()
    assert train_protonet(images, labels, {"n_way": 3, "episodes": 1, "distance": "cosine"}, encoder=conv4(4)).network.distance == "cosine"
    with pytest.raises(ValueError, match="distance"):
        ProtoNetRecipe(distance="manhattan")
