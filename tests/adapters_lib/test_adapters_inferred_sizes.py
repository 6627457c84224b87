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
