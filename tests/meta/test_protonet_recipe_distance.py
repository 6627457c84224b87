"""train_protonet trains with the recipe's distance: with ``distance="cosine"`` the loss is that of
the cosine logits the returned network predicts with, not of squared Euclidean distances."""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F

from meta.backbones import conv4
from meta.data.episodes import EpisodeSampler
from meta.few_shot import PrototypicalNetwork
from meta.protonet_recipe import ProtoNetRecipe, train_protonet


@pytest.mark.parametrize("distance", ["cosine", "euclidean"])
def test_the_first_episodes_loss_is_that_of_the_recipes_distance(distance: str) -> None:
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(24, 1, 16, 16, generator=g), torch.arange(24) % 6
    recipe = ProtoNetRecipe(
        n_way=3, n_query=2, episodes=1, distance=distance, rotation_classes=False, augment=False,
        precision="float32", channels_last=False,
    )
    torch.manual_seed(0)
    encoder = conv4(4)
    before = PrototypicalNetwork(copy.deepcopy(encoder), distance=distance)
    seen: list[float] = []
    train_protonet(x, y, recipe, encoder=encoder, on_episode=lambda i, m: seen.append(m["loss"]))
    # the episode the recipe drew: its sampler's first, with the recipe's seed
    episode = EpisodeSampler(x, y, n_way=3, k_shot=1, n_query=2, seed=recipe.seed).sample()
    expected = F.cross_entropy(before(episode.support_x, episode.support_y, episode.query_x), episode.query_y)
    assert seen == [pytest.approx(float(expected.detach()), rel=1e-5)]
