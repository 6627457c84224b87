"""Compacter's shared slow weights: one per phm_dim and seed, usable by targets of any dtype."""

from __future__ import annotations

import torch
from torch import nn

from adapters_lib import AdapterConfig, AdapterModel, PHMRules


def _rules(model: AdapterModel, index: int) -> torch.Tensor:
    return model.base_model[index].adapters["default"]["compacter"].rules.rules


def test_configs_with_other_seeds_get_their_own_rules() -> None:
    configs = [
        AdapterConfig(adapter_type="compacter", hidden_dim=4, phm_dim=2, target_modules=[str(i)], seed=seed)
        for i, seed in enumerate((0, 5, 0))
    ]
    model = AdapterModel(nn.Sequential(nn.Linear(8, 8), nn.Linear(8, 8), nn.Linear(8, 8)), configs)
    assert _rules(model, 0) is _rules(model, 2)
    assert torch.equal(_rules(model, 1), PHMRules(2, seed=5).rules)


def test_targets_of_different_dtypes_share_rules_and_run() -> None:
    config = AdapterConfig(adapter_type="compacter", hidden_dim=4, phm_dim=2, target_modules=["0", "1"])
    model = AdapterModel(nn.Sequential(nn.Linear(8, 8), nn.Linear(8, 8).double()), config)
    assert _rules(model, 0) is _rules(model, 1)
    for index, dtype in ((0, torch.float32), (1, torch.float64)):
        layer = model.base_model[index]
        layer.adapters["default"]["compacter"].up.t.data.fill_(0.1)  # a nonzero adapter output
        out = layer(torch.randn(3, 8, dtype=dtype))
        assert out.dtype == dtype
        out.sum().backward()
    assert _rules(model, 0).grad is not None
