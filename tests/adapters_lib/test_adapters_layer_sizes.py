"""The sizes given to adapters_lib's layers and blocks directly: a size that is not an integer >= 1
is refused naming the argument, where torch made an empty layer, took True for 1, or failed with
its own message (a division by zero, a negative dimension)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch

from adapters_lib import (
    AdapterConfig,
    BitFitAdapter,
    BottleneckAdapter,
    CrossModalCore,
    LoRAAdapter,
    PHMLinear,
    PHMRules,
    PrefixAdapter,
    SelfAttention,
    TransformerBlock,
)

LORA = AdapterConfig(adapter_type="lora", input_dim=8, lora_r=2)
PARALLEL = AdapterConfig(adapter_type="adapter", input_dim=8, placement="parallel")


@pytest.mark.parametrize(
    ("field", "build"),
    [
        ("num_heads", lambda v: SelfAttention(32, v)),
        ("embed_dim", lambda v: SelfAttention(v, 1)),
        ("mlp_ratio", lambda v: TransformerBlock(32, 4, mlp_ratio=v)),
        ("embed_dim", lambda v: TransformerBlock(v, 1)),
        ("in_features", lambda v: LoRAAdapter(LORA, in_features=v)),
        ("out_features", lambda v: LoRAAdapter(LORA, out_features=v)),
        ("n", lambda v: PHMRules(v)),
        ("rank", lambda v: PHMLinear(8, 4, PHMRules(2), rank=v)),
        ("hidden_dim", lambda v: CrossModalCore(v)),
        ("output_dim", lambda v: BottleneckAdapter(PARALLEL, output_dim=v)),
        ("key_dim", lambda v: PrefixAdapter(AdapterConfig(adapter_type="prefix", input_dim=8), key_dim=v)),
        ("bias_shape\\[0\\]", lambda v: BitFitAdapter(AdapterConfig(adapter_type="bitfit", input_dim=8), bias_shape=(v,))),
    ],
)
@pytest.mark.parametrize("value", [0, -2, True, 2.0])
def test_a_size_that_is_not_a_positive_integer_is_named(field: str, build: Callable[[object], object], value: object) -> None:
    with pytest.raises(ValueError, match=f"^{field}: expected an integer >= 1, got {value!r}"):
        build(value)


def test_a_conv_description_without_its_settings_is_named() -> None:
    with pytest.raises(ValueError, match=r"^conv: lacks \['stride', 'padding', 'dilation'\]"):
        LoRAAdapter(LORA, 3, 4, conv={"kernel_size": (3, 3)})  # failed only at the first forward


def test_valid_sizes_still_build_working_layers() -> None:
    assert SelfAttention(8, 2)(torch.randn(1, 3, 8)).shape == (1, 3, 8)
    lora = LoRAAdapter(LORA, 3, 4, conv={"kernel_size": (3, 3), "stride": (1, 1), "padding": (1, 1), "dilation": (1, 1)})
    assert lora.apply_delta(torch.randn(1, 3, 5, 5), torch.zeros(1, 4, 5, 5)).shape == (1, 4, 5, 5)
    assert BitFitAdapter(AdapterConfig(adapter_type="bitfit", input_dim=8), bias_shape=(2, 4)).bias_delta.shape == (2, 4)
