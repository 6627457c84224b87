"""unload(merge=True) gives back a model that computes what the adapted one computes, or refuses."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from adapters_lib import AdaptedModule, AdapterConfig, AdapterModel, AdapterStateError, AdapterType


def test_running_adapters_that_cannot_merge_are_refused_named_and_nothing_changes() -> None:
    torch.manual_seed(0)
    base = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 8))
    model = AdapterModel(base, [
        AdapterConfig(adapter_type=AdapterType.LORA, target_modules=["0"], lora_r=2),
        AdapterConfig(adapter_type=AdapterType.ADAPTER, input_dim=8, hidden_dim=2, target_modules=["2"]),
    ])
    with torch.no_grad():
        for p in model.adapter_parameters():
            p.normal_()
    x = torch.randn(3, 8)
    expected = model(x)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(AdapterStateError, match=r"adapter of set 'default' on \['2'\].*disable_adapters"):
        model.unload(merge=True)
    assert not model.merged and isinstance(base[0], AdaptedModule) and isinstance(base[2], AdaptedModule)
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in state.items())
    torch.testing.assert_close(model(x), expected, rtol=0, atol=0)

    # switched off, the bottleneck is dropped on purpose and the LoRA merged
    model.disable_adapters(AdapterType.ADAPTER)
    expected = model(x)
    plain = model.unload(merge=True)
    assert isinstance(plain[0], nn.Linear) and isinstance(plain[2], nn.Linear)
    torch.testing.assert_close(plain(x), expected, rtol=1e-5, atol=1e-5)
