"""A model's state is the same whether its adapters are merged or not: ``state_dict`` gives the
base weights as they are unmerged, and ``load_state_dict`` into a merged model merges the loaded
adapters again. A merged state loaded into an unmerged model applied the updates twice, and an
unmerged state loaded into a merged model lost them (and unmerging then restored the old weights)."""

from __future__ import annotations

import torch
from torch import nn

from adapters_lib import AdapterConfig, AdapterModel, AdapterType


def _model(seed: int) -> AdapterModel:
    torch.manual_seed(seed)
    base = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3))
    model = AdapterModel(base, [AdapterConfig(adapter_type=AdapterType.LORA, lora_r=2, target_modules=["0", "2"]),
                                AdapterConfig(adapter_type=AdapterType.BITFIT, target_modules=["2"])])
    with torch.no_grad():
        for p in model.parameters():
            if p.requires_grad:
                p.add_(torch.randn_like(p))  # trained adapters: a merge changes the base weights
    return model


def test_the_state_is_the_same_merged_or_not_and_loads_into_either() -> None:
    x = torch.randn(5, 6)
    source = _model(0)
    expected, unmerged = source(x), {k: v.clone() for k, v in source.state_dict().items()}
    source.merge_adapters()
    merged = source.state_dict()
    assert merged.keys() == unmerged.keys() and all(torch.equal(merged[k], unmerged[k]) for k in unmerged)

    fresh = _model(1)
    fresh.load_state_dict(merged)
    torch.testing.assert_close(fresh(x), expected)

    target = _model(2)
    target.merge_adapters()
    target.load_state_dict(unmerged)
    assert target.merged
    torch.testing.assert_close(target(x), expected)
    target.unmerge_adapters()
    torch.testing.assert_close(target(x), expected)
    assert all(torch.equal(v, unmerged[k]) for k, v in target.state_dict().items())
