"""An adapter on a module without parameters (an activation) takes the model's dtype, as on any
other target: in a float64 or bfloat16 model it stayed float32 and every forward failed."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from adapters_lib import AdapterConfig, AdapterModel


@pytest.mark.parametrize("dtype", [torch.float64, torch.bfloat16])
@pytest.mark.parametrize(
    "config",
    [
        AdapterConfig(adapter_type="linear", input_dim=8, hidden_dim=2, target_modules="act"),
        AdapterConfig(adapter_type="adapter", input_dim=8, target_modules="act"),
        AdapterConfig(adapter_type="compacter", input_dim=8, phm_dim=2, target_modules="act"),
        AdapterConfig(adapter_type="multimodal", input_dim=8, target_modules="act"),
    ],
    ids=lambda c: c.adapter_type.value,
)
def test_an_adapter_on_an_activation_runs_in_the_models_dtype(config: AdapterConfig, dtype: torch.dtype) -> None:
    torch.manual_seed(0)
    base = nn.Sequential()
    base.add_module("fc", nn.Linear(8, 8))
    base.add_module("act", nn.GELU())
    base.to(dtype)
    model = AdapterModel(base, config)
    assert {p.dtype for p in model.adapter_parameters()} == {dtype}
    x = torch.randn(3, 8, dtype=dtype)
    out = model(x)
    assert out.dtype == dtype
    torch.testing.assert_close(out, base.act.base_layer(base.fc(x)))  # every adapter starts at the identity
