"""A standalone adapter called on features of the wrong size: an error naming ``input_dim`` with
both sizes, rather than torch's shape error; other failures pass through unchanged."""

from __future__ import annotations

import re

import pytest
import torch

from adapters_lib import (
    AdapterConfig,
    AdapterDimensionError,
    BitFitAdapter,
    BottleneckAdapter,
    CompacterAdapter,
    LanguageAdapter,
    LinearAdapter,
    LoRAAdapter,
    MultiModalAdapter,
    VisionAdapter,
)

ADAPTERS = {
    "language": lambda: LanguageAdapter(AdapterConfig(adapter_type="adapter", input_dim=16, hidden_dim=4)),
    "vision": lambda: VisionAdapter(AdapterConfig(adapter_type="adapter", input_dim=16, hidden_dim=4)),
    "multimodal": lambda: MultiModalAdapter(AdapterConfig(adapter_type="multimodal", input_dim=16, hidden_dim=4)),
    "bottleneck": lambda: BottleneckAdapter(AdapterConfig(adapter_type="adapter", input_dim=16, hidden_dim=4)),
    "parallel": lambda: BottleneckAdapter(
        AdapterConfig(adapter_type="adapter", input_dim=16, hidden_dim=4, placement="parallel")
    ),
    "linear": lambda: LinearAdapter(AdapterConfig(adapter_type="linear", input_dim=16, hidden_dim=4)),
    "linear_full": lambda: LinearAdapter(AdapterConfig(adapter_type="linear", input_dim=16)),
    "lora": lambda: LoRAAdapter(AdapterConfig(adapter_type="lora", input_dim=16, lora_r=4)),
    "compacter": lambda: CompacterAdapter(AdapterConfig(adapter_type="compacter", input_dim=16, hidden_dim=4, phm_dim=2)),
}


@pytest.mark.parametrize("kind", sorted(ADAPTERS))
@pytest.mark.parametrize("shape", [(2, 8), (2, 3, 32), (8,)])
def test_wrong_feature_size_names_input_dim(kind: str, shape: tuple[int, ...]) -> None:
    adapter = ADAPTERS[kind]()
    with pytest.raises(AdapterDimensionError, match=re.escape(f"expects inputs of shape (..., 16), got {shape}")) as caught:
        adapter(torch.randn(*shape))
    assert str(caught.value).startswith("input_dim: ")
    assert adapter(torch.randn(2, 16)).shape == (2, 16)  # the right size still runs


@pytest.mark.parametrize("kind", sorted(ADAPTERS))
def test_other_failures_are_not_blamed_on_input_dim(kind: str) -> None:
    with pytest.raises(RuntimeError) as caught:
        ADAPTERS[kind]()(torch.randn(2, 16, dtype=torch.float64))  # right size, wrong dtype
    assert not isinstance(caught.value, AdapterDimensionError)


@pytest.mark.parametrize("shape", [(2, 1), (2, 3, 1), (1,), (2, 8)])
def test_bitfit_refuses_a_wrong_feature_size(shape: tuple[int, ...]) -> None:
    # a feature size of 1 broadcast to the bias's size and gave a wrongly shaped output without a word
    adapter = BitFitAdapter(AdapterConfig(adapter_type="bitfit", input_dim=16))
    with pytest.raises(AdapterDimensionError, match=re.escape(f"input_dim: BitFitAdapter expects inputs of shape (..., 16), got {shape}")):
        adapter(torch.randn(*shape))
    assert adapter(torch.randn(2, 16)).shape == (2, 16)


@pytest.mark.parametrize("shape", [(2, 1, 5), (2, 3, 5)])
def test_bitfit_along_channels_refuses_a_wrong_channel_count(shape: tuple[int, ...]) -> None:
    adapter = BitFitAdapter(AdapterConfig(adapter_type="bitfit", input_dim=16), feature_dim=1)
    with pytest.raises(AdapterDimensionError, match=re.escape(f"16 features along dimension 1, got {shape}")):
        adapter(torch.randn(*shape))
    assert adapter(torch.randn(2, 16, 5)).shape == (2, 16, 5)


def test_bitfit_other_failures_are_not_blamed_on_input_dim() -> None:
    adapter = BitFitAdapter(AdapterConfig(adapter_type="bitfit", input_dim=16))
    with pytest.raises(RuntimeError) as caught:
        adapter(torch.zeros(2, 16, device="meta"))  # right size, another device
    assert not isinstance(caught.value, AdapterDimensionError)
