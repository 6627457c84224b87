"""A config whose input_dim is inferred from each target is checked as strictly as one that gives it."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from adapters_lib import AdapterConfig, AdapterDimensionError, AdapterModel


@pytest.mark.parametrize(
    ("width", "config", "reason"),
    [
        (4, {"adapter_type": "linear", "hidden_dim": 6}, r"hidden_dim: rank 6 exceeds input_dim=4"),
        (6, {"adapter_type": "compacter", "phm_dim": 4, "hidden_dim": 4}, r"input_dim: 6 is not divisible by phm_dim=4"),
        (8, {"adapter_type": "compacter", "phm_dim": 4, "hidden_dim": 5}, r"hidden_dim: 5 is not divisible by phm_dim=4"),
    ],
)
def test_an_inferred_size_that_breaks_the_config_names_field_and_module(width: int, config: dict, reason: str) -> None:
    base = nn.Sequential(nn.Linear(3, width))
    with pytest.raises(ValueError, match=reason):  # as when input_dim=width is given
        AdapterConfig(input_dim=width, target_modules=["0"], **config)
    with pytest.raises(AdapterDimensionError, match=reason + r".*module '0'"):
        AdapterModel(base, AdapterConfig(target_modules=["0"], **config))
    assert isinstance(base[0], nn.Linear) and base[0].weight.requires_grad


def test_an_inferred_size_that_fits_builds_the_adapter() -> None:
    model = AdapterModel(nn.Sequential(nn.Linear(3, 8)), AdapterConfig(adapter_type="linear", hidden_dim=4, target_modules=["0"]))
    assert model(torch.randn(2, 3)).shape == (2, 8)


@pytest.mark.parametrize("embedding", [nn.Embedding(10, 6), nn.EmbeddingBag(10, 6, mode="mean")])
def test_an_adapter_after_an_embedding_takes_its_size_from_the_embedding(embedding: nn.Module) -> None:
    ids = torch.randint(0, 10, (2, 3))
    model = AdapterModel(nn.Sequential(embedding), AdapterConfig(adapter_type="adapter", hidden_dim=4, target_modules=["0"]))
    with torch.no_grad():
        for p in model.adapter_parameters():
            p.normal_()
    assert model.adapter_configs()[0].input_dim is None  # inferred per target, as for a Linear
    assert model(ids).shape == embedding(ids).shape and not torch.allclose(model(ids), embedding(ids))
