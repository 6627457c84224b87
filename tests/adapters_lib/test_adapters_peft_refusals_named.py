"""A PEFT checkpoint that cannot be imported is refused naming what is wrong as the checkpoint
names it: one without LoRA weights was "adapter_configs: empty" (an argument nobody passed), and
a rank of 0 was pydantic's error on "lora_r", a field the checkpoint does not have."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import save_file
from torch import nn

from adapters_lib import AdaptedModule, AdapterConfig, AdapterKeyError, AdapterModel
from adapters_lib.peft_format import WEIGHTS_NAME


def _base() -> nn.Sequential:
    return nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 4))


def _checkpoint(path, tensors: dict[str, torch.Tensor]):  # type: ignore[no-untyped-def]
    AdapterModel(_base(), AdapterConfig(adapter_type="lora", target_modules=["0"], lora_r=2)).export_peft(path)
    save_file(tensors, str(path / WEIGHTS_NAME))
    return path


def test_a_checkpoint_without_lora_weights_says_so(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = _checkpoint(tmp_path, {"base_model.model.0.base_layer.weight": _base()[0].weight.detach().clone()})
    base = _base()
    with pytest.raises(AdapterKeyError, match=f"{str(path / WEIGHTS_NAME)!r} holds no LoRA weights"):
        AdapterModel.from_peft(base, path)
    assert not any(isinstance(m, AdaptedModule) for m in base.modules())
    model = AdapterModel(base, AdapterConfig(adapter_type="bitfit", target_modules=["2"]))
    with pytest.raises(AdapterKeyError, match="holds no LoRA weights"):
        model.load_peft(path, adapter_name="imported")
    assert model.adapter_names == ["default"]


def test_a_rank_of_zero_is_named_as_the_rank_of_lora_a(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = _checkpoint(tmp_path, {"base_model.model.0.lora_A.weight": torch.zeros(0, 8),
                                  "base_model.model.0.lora_B.weight": torch.zeros(8, 0)})
    with pytest.raises(ValueError, match=r"^r \(the rank of lora_A\): .*got 0 \(for modules \['0'\]\)"):
        AdapterModel.from_peft(_base(), path)
