"""Only the adapters that run train: an inactive set or a disabled type is frozen."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from adapters_lib import AdapterConfig, AdapterModel, AdapterType


def trainable_sets(model: AdapterModel) -> set[str]:
    return {name.split(".adapters.")[1].split(".")[0] for name, p in model.named_parameters() if p.requires_grad}


def test_only_the_active_set_requires_grad_and_an_optimizer_leaves_the_others_alone(tmp_path) -> None:  # type: ignore[no-untyped-def]
    torch.manual_seed(0)
    lora = AdapterConfig(adapter_type=AdapterType.LORA, input_dim=8, lora_r=2)
    model = AdapterModel(nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 4)), lora)
    model.add_adapter("other", lora, activate=False)
    assert trainable_sets(model) == {"default"}

    # a step on "default", then a switch: the gradient left on "default" must not move it
    model(torch.randn(4, 8)).sum().backward()
    model.set_active_adapters("other")
    assert trainable_sets(model) == {"other"}
    frozen = model.adapter_state_dict("default")
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, weight_decay=0.5)
    model(torch.randn(4, 8)).sum().backward()
    optimizer.step()
    assert all(torch.equal(v, model.adapter_state_dict("default")[k]) for k, v in frozen.items())

    model.set_active_adapters(["default", "other"])
    assert trainable_sets(model) == {"default", "other"}
    model.disable_adapters(AdapterType.LORA)
    assert trainable_sets(model) == set()
    model.enable_adapters()
    model.set_active_adapters("default")

    # loading a file into a new, active set and into an inactive one keeps the flags
    path = model.save_adapters(tmp_path / "other.safetensors", "other")
    assert model.load_adapters(path, "other") == "other"
    assert trainable_sets(model) == {"default"}
    model.load_adapters(path, "copy")
    assert trainable_sets(model) == {"default", "copy"}


def test_merged_adapters_are_frozen_until_unmerged() -> None:
    lora = AdapterConfig(adapter_type=AdapterType.LORA, input_dim=8, lora_r=2)
    model = AdapterModel(nn.Sequential(nn.Linear(8, 8)), [lora, AdapterConfig(adapter_type=AdapterType.ADAPTER, input_dim=8, hidden_dim=2)])
    model.merge_adapters()  # the LoRA is folded into the frozen weight; the bottleneck still runs
    assert {n.rsplit(".", 2)[-2] for n, p in model.named_parameters() if p.requires_grad} == {"down", "up"}
    model.unmerge_adapters()
    assert trainable_sets(model) == {"default"} and all(p.requires_grad for p in model.adapter_parameters())


def test_a_loaded_set_joins_the_active_ones_unless_asked_not_to(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # load_adapters and load_peft always activated the set they created, changing what the model computes
    torch.manual_seed(0)
    lora = AdapterConfig(adapter_type=AdapterType.LORA, input_dim=8, lora_r=2)
    model = AdapterModel(nn.Sequential(nn.Linear(8, 8)), lora)
    with torch.no_grad():
        for p in model.adapter_parameters():
            p.normal_()
    x = torch.randn(3, 8)
    before = model(x)
    path = model.save_adapters(tmp_path / "default.safetensors")
    model.export_peft(tmp_path / "peft")
    assert model.load_adapters(path, "copy", activate=False) == "copy"
    model.load_peft(tmp_path / "peft", "from_peft", activate=False)
    assert model.active_adapters == ["default"] and trainable_sets(model) == {"default"}
    assert torch.equal(model(x), before)
    with pytest.raises(TypeError, match="activate: expected True or False, got 'no'"):
        model.load_adapters(path, "other", activate="no")  # type: ignore[arg-type]
    assert model.adapter_names == ["default", "copy", "from_peft"]
    model.load_adapters(path, "copy", activate=True)  # into a set that exists: its weights only
    assert model.active_adapters == ["default"]
    model.load_adapters(path, "third")  # a created set joins by default, as with add_adapter
    assert model.active_adapters == ["default", "third"]
