"""train_protonet keeps a float64 encoder's precision: its distances and loss were computed in
float32 (the embeddings cast down), and the result reported a float32 or bfloat16 training."""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from meta.data.episodes import EpisodeSampler
from meta.protonet_recipe import ProtoNetRecipe, train_protonet


@pytest.mark.parametrize("precision", ["auto", "bfloat16"])
def test_a_float64_encoder_trains_on_float64_distances(precision: str) -> None:
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(24, 1, 6, 6, generator=g, dtype=torch.float64), torch.arange(24) % 6
    recipe = ProtoNetRecipe(n_way=3, n_query=2, episodes=1, rotation_classes=False, augment=False,
                            channels_last=False, precision=precision, seed=3)
    torch.manual_seed(0)
    encoder = nn.Sequential(nn.Flatten(), nn.Linear(36, 16)).double()
    untrained = copy.deepcopy(encoder)
    seen: list[float] = []
    result = train_protonet(x, y, recipe, encoder=encoder, on_episode=lambda _, m: seen.append(m["loss"]))
    # the episode the recipe drew, scored in float64 by the untrained encoder
    task = EpisodeSampler(x, y, n_way=3, k_shot=1, n_query=2, seed=3).sample()
    with torch.no_grad():
        protos, queries = untrained(task.support_x), untrained(task.query_x)
        expected = F.cross_entropy(-torch.cdist(queries, protos).pow(2), task.query_y)
    assert seen[0] == pytest.approx(float(expected), rel=1e-12, abs=0)
    assert result.precision == "float64"
