"""An empty batch goes through every adapter and the attention blocks as through the plain layers."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from adapters_lib import AdapterConfig, AdapterModel, SelfAttention, TransformerBlock


@pytest.mark.parametrize("hidden_dim", [2, None], ids=["low-rank", "full-rank"])
def test_linear_adapter_takes_an_empty_batch(hidden_dim: int | None) -> None:
    model = AdapterModel(nn.Sequential(nn.Linear(8, 8)), AdapterConfig(adapter_type="linear", input_dim=8, hidden_dim=hidden_dim))
    for shape in [(0, 8), (0, 3, 8), (2, 0, 8)]:
        x = torch.randn(*shape, requires_grad=True)
        out = model(x)
        assert out.shape == shape
        out.sum().backward()


@pytest.mark.parametrize("prefix", [False, True])
def test_attention_blocks_take_an_empty_batch(prefix: bool) -> None:
    torch.manual_seed(0)
    block = TransformerBlock(8, 2, causal=True)
    model = AdapterModel(nn.Sequential(block), AdapterConfig(adapter_type="prefix", input_dim=8)) if prefix else block
    assert model(torch.randn(0, 3, 8)).shape == (0, 3, 8)
    assert SelfAttention(8, 2)(torch.randn(0, 5, 8)).shape == (0, 5, 8)
