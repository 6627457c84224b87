"""The exact backup that merging keeps moves with the model: after ``.double()`` or ``.to(...)`` a
merged model's ``state_dict`` and ``unmerge_adapters`` give the base weights in the model's new
dtype (and device). The backup stayed as it was taken, so a merged model cast to float64 saved
float32 base weights, and one moved off an accelerator kept its copies there."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from adapters_lib import AdapterConfig, AdapterModel, AdapterType


@pytest.mark.parametrize("dtype", [torch.float64, torch.bfloat16])
def test_a_merged_model_cast_to_another_dtype_keeps_its_backup_in_that_dtype(dtype: torch.dtype) -> None:
    torch.manual_seed(0)
    model = AdapterModel(nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3)), [
        AdapterConfig(adapter_type=AdapterType.LORA, lora_r=2, target_modules=["0", "2"]),
        AdapterConfig(adapter_type=AdapterType.BITFIT, target_modules=["2"]),
    ])
    with torch.no_grad():
        for p in model.adapter_parameters():
            p.add_(torch.randn_like(p))
    unmerged = {k: v.to(dtype) for k, v in model.state_dict().items()}

    model.merge_adapters()
    model.to(dtype)
    state = model.state_dict()
    assert {k: v.dtype for k, v in state.items()} == {k: dtype for k in unmerged}
    assert all(torch.equal(state[k], unmerged[k]) for k in unmerged)

    model.unmerge_adapters()
    assert all(torch.equal(v, unmerged[k]) for k, v in model.state_dict().items())
