"""Merging into a weight that a parametrization computes (weight_norm) is refused naming the module,
with the model left as it was: there is no parameter to add the update to."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn.utils.parametrizations import weight_norm

from adapters_lib import AdapterConfig, AdapterModel, AdapterStateError


@pytest.mark.parametrize("adapter_type", ["lora", "bitfit"])
def test_merging_into_a_parametrized_weight_is_refused_and_changes_nothing(adapter_type: str) -> None:
    torch.manual_seed(0)
    base = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 4))
    base[2] = weight_norm(base[2])
    if adapter_type == "bitfit":
        nn.utils.parametrize.register_parametrization(base[2], "bias", nn.Identity())
    model = AdapterModel(base, AdapterConfig(adapter_type=adapter_type, target_modules=["re:0", "re:2"]))
    with torch.no_grad():
        for p in model.adapter_parameters():
            p.normal_()
    x = torch.randn(3, 8)
    out = model(x)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    for merge in (model.merge_adapters, lambda: model.unload(merge=True)):
        with pytest.raises(AdapterStateError, match=r"^merge_adapters: the '(weight|bias)' of module '2' is computed by a parametrization"):
            merge()  # was a bare KeyError: 'weight'
        assert not model.merged
        assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
        torch.testing.assert_close(model(x), out, rtol=0, atol=0)
