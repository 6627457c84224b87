"""AdapterModel's arguments of the wrong type, and damaged files: an error naming the field, and
nothing changed."""

from __future__ import annotations

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from torch import nn

from adapters_lib import AdapterConfig, AdapterModel, AdapterStateError

LORA = AdapterConfig(adapter_type="lora", input_dim=8, lora_r=2)


def _model() -> AdapterModel:
    torch.manual_seed(0)
    return AdapterModel(nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 4)), LORA)


def test_a_flag_given_as_a_string_is_refused() -> None:
    base = nn.Sequential(nn.Linear(8, 8))
    with pytest.raises(TypeError, match="freeze_base: .*'no'"):
        AdapterModel(base, LORA, freeze_base="no")  # type: ignore[arg-type]
    assert all(p.requires_grad for p in base.parameters())
    model = _model()
    with pytest.raises(TypeError, match="activate: .*'no'"):
        model.add_adapter("other", AdapterConfig(adapter_type="bitfit"), activate="no")  # type: ignore[arg-type]
    assert model.adapter_names == ["default"] and model.active_adapters == ["default"]
    with pytest.raises(TypeError, match="merge: .*'no'"):
        model.unload(merge="no")  # type: ignore[arg-type]
    assert not model.merged
    model(torch.randn(2, 8))  # still usable: nothing was unloaded


@pytest.mark.parametrize("names", [3, None, ["default", 3]])
def test_set_names_of_the_wrong_type_are_named(names: object) -> None:
    model = _model()
    with pytest.raises(TypeError, match="adapter_names"):
        model.set_active_adapters(names)  # type: ignore[arg-type]
    assert model.active_adapters == ["default"]
    with pytest.raises(TypeError, match="adapter_names"):
        model.adapter_parameter_names(adapter_names=names if names is not None else 3)  # type: ignore[arg-type]


def test_a_state_that_is_not_str_to_tensor_is_refused_before_any_copy() -> None:
    model = _model()
    before = model.adapter_state_dict()
    as_lists = {key: value.tolist() for key, value in before.items()}
    with pytest.raises(TypeError, match=r"state: entries \['0.lora.lora_A'"):
        model.load_adapter_state_dict(as_lists)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="state: expected a mapping"):
        model.load_adapter_state_dict([1, 2])  # type: ignore[arg-type]
    assert all(torch.equal(before[k], v) for k, v in model.adapter_state_dict().items())


def test_saving_to_a_directory_names_the_path(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(IsADirectoryError, match="path: .*is a directory"):
        _model().save_adapters(tmp_path)


def test_a_second_adapter_model_on_the_same_base_is_refused() -> None:
    first = _model()
    with torch.no_grad():
        for p in first.adapter_parameters():
            p.normal_()
    x = torch.randn(2, 8)
    out = first(x)
    with pytest.raises(AdapterStateError, match="base_model: module '0' already carries adapters"):
        AdapterModel(first.base_model, AdapterConfig(adapter_type="bitfit"), adapter_name="other")
    assert first.adapter_names == ["default"]
    torch.testing.assert_close(first(x), out, rtol=0, atol=0)  # the first model's adapters still apply
    base = first.unload()
    AdapterModel(base, AdapterConfig(adapter_type="bitfit"))  # once unloaded, the base can be wrapped again


@pytest.mark.parametrize("adapter_name", ["default", "other"])  # into the set that exists, and a new one
def test_a_damaged_config_in_a_file_names_the_file_and_the_config(tmp_path, adapter_name: str) -> None:  # type: ignore[no-untyped-def]
    path = _model().save_adapters(tmp_path / "a.safetensors")
    with safe_open(str(path), "pt") as f:
        metadata = f.metadata()
    metadata["configs"] = metadata["configs"].replace('"lora_r": 2', '"lora_r": -1')
    save_file(load_file(str(path)), str(path), metadata=metadata)
    model = _model()
    before = model.adapter_state_dict()
    with pytest.raises(ValueError, match=r"^path: .*a\.safetensors', metadata 'configs'\[0\] is not a valid config \(lora_r: "):
        model.load_adapters(path, adapter_name=adapter_name)
    assert model.adapter_names == ["default"]
    assert all(torch.equal(before[k], v) for k, v in model.adapter_state_dict().items())
