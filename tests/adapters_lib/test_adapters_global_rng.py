"""Adding adapters draws nothing from torch's global RNG: each adapter is initialised from its own
seeded generator, so a seeded script's later randomness (data order, dropout) does not depend on
which adapters it added."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from adapters_lib import AdapterConfig, AdapterModel, AdapterType


@pytest.mark.parametrize(
    "config",
    [
        AdapterConfig(adapter_type=AdapterType.ADAPTER, input_dim=8),
        AdapterConfig(adapter_type=AdapterType.ADAPTER, input_dim=8, placement="parallel"),
        AdapterConfig(adapter_type=AdapterType.MULTIMODAL, input_dim=8, modalities=("language", "vision", "audio")),
        AdapterConfig(adapter_type=AdapterType.LORA, input_dim=8),
        AdapterConfig(adapter_type=AdapterType.LINEAR, input_dim=8, hidden_dim=2),
        AdapterConfig(adapter_type=AdapterType.COMPACTER, input_dim=8, phm_dim=2),
        AdapterConfig(adapter_type=AdapterType.PREFIX, input_dim=8),
        AdapterConfig(adapter_type=AdapterType.BITFIT),
    ],
    ids=lambda c: f"{c.adapter_type.value}-{c.placement}",
)
def test_adding_adapters_leaves_the_global_rng_stream_alone(config: AdapterConfig) -> None:
    base = nn.Sequential(nn.Linear(8, 8), nn.MultiheadAttention(8, 2))
    torch.manual_seed(7)
    expected = torch.rand(4)
    torch.manual_seed(7)
    AdapterModel(base, config)
    torch.testing.assert_close(torch.rand(4), expected, rtol=0, atol=0)
