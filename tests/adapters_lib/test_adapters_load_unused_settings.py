"""Loading saved weights into a set that exists compares only the settings the adapter's type
computes with: a LoRA config's activation or adapter_scaling (which LoRA never reads, as with
options shared by several adapter types' configs) made the load refuse, saying that its weights
would compute something else."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from adapters_lib import AdapterConfig, AdapterModel, AdapterStateError

SHARED = {"input_dim": 8, "hidden_dim": 4, "activation": "gelu", "adapter_scaling": 0.5}


def _model(config: AdapterConfig) -> AdapterModel:
    torch.manual_seed(0)
    return AdapterModel(nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 8)), config)


@pytest.mark.parametrize("adapter_type", ["lora", "bitfit", "linear"])
def test_settings_the_type_never_reads_do_not_block_a_load(tmp_path, adapter_type: str) -> None:  # type: ignore[no-untyped-def]
    saved = _model(AdapterConfig(adapter_type=adapter_type, target_modules=["0"], **SHARED))
    with torch.no_grad():
        for p in saved.adapter_parameters():
            p.normal_()
    path = saved.save_adapters(tmp_path / "a.safetensors")
    model = _model(AdapterConfig(adapter_type=adapter_type, target_modules=["0"], input_dim=8, hidden_dim=4))
    model.load_adapters(path)
    x = torch.randn(3, 8)
    torch.testing.assert_close(model(x), saved(x), rtol=0, atol=0)


def test_a_setting_the_type_reads_still_blocks_a_load(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = _model(AdapterConfig(adapter_type="adapter", target_modules=["0"], **SHARED)).save_adapters(tmp_path / "a.safetensors")
    model = _model(AdapterConfig(adapter_type="adapter", target_modules=["0"], input_dim=8, hidden_dim=4))
    with pytest.raises(AdapterStateError, match="adapter activation: file \"gelu\", set \"relu\""):
        model.load_adapters(path)
