"""More of AdapterModel's arguments of the wrong kind: configs, adapter types, set names and paths
are refused naming the field (not with torch's or Python's own message), and nothing changes."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from adapters_lib import AdapterConfig, AdapterKeyError, AdapterModel

LORA = AdapterConfig(adapter_type="lora", input_dim=8, lora_r=2)


def _model() -> AdapterModel:
    torch.manual_seed(0)
    return AdapterModel(nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 4)), LORA)


@pytest.mark.parametrize("configs", [None, "bitfit", {"adapter_type": "bitfit"}, 3])
def test_configs_that_are_not_configs_are_named(configs: object) -> None:
    model = _model()
    with pytest.raises(TypeError, match="^adapter_configs: expected an AdapterConfig or a sequence"):
        model.add_adapter("other", configs)  # type: ignore[arg-type]
    assert model.adapter_names == ["default"]


def test_an_adapter_type_that_is_not_iterable_is_named() -> None:
    model = _model()
    with pytest.raises(TypeError, match="^adapter_types: .*got 3"):
        model.disable_adapters(3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="^adapter_types: .*got 3"):
        model.adapter_parameter_names(adapter_types=3)  # type: ignore[arg-type]
    assert len(model.enabled_types) == 7


def test_a_set_name_that_is_not_a_string_is_named(tmp_path) -> None:  # type: ignore[no-untyped-def]
    model = _model()
    for call in (model.delete_adapter, model.adapter_configs, model.adapter_state_dict):
        with pytest.raises(AdapterKeyError, match=r"^adapter_name: unknown set \['default'\]"):
            call(["default"])  # type: ignore[arg-type]
    path = model.save_adapters(tmp_path / "a.safetensors")
    with pytest.raises(ValueError, match=r"^adapter_name: \['x'\] is not an identifier"):
        model.load_adapters(path, ["x"])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="^name: expected a parameter name"):
        model.is_adapter_parameter(None)  # type: ignore[arg-type]
    assert model.adapter_names == ["default"]


def test_a_path_that_is_not_a_path_is_named() -> None:
    model = _model()
    with pytest.raises(TypeError, match="^path: expected a file path"):
        model.save_adapters(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="^path: expected a file path"):
        model.load_adapters(3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="^directory: expected a file path"):
        model.export_peft(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="^directory: expected a file path"):
        model.load_peft(None, adapter_name="peft")  # type: ignore[arg-type]
    assert model.adapter_names == ["default"]


@pytest.mark.parametrize("modality", [["vision"], None, 3])
def test_a_modality_that_is_not_a_name_is_named_and_the_active_one_stays(modality: object) -> None:
    model = AdapterModel(nn.Sequential(nn.Linear(8, 8)), AdapterConfig(adapter_type="multimodal", input_dim=8, hidden_dim=4))
    adapter = model.base_model[0].adapters["default"]["multimodal"]
    for set_modality in (model.set_modality, adapter.set_modality):
        with pytest.raises(TypeError, match=r"^modality: expected a modality name \(str\), got"):
            set_modality(modality)
    with pytest.raises(TypeError, match="^modality: expected a modality name"):
        adapter(torch.randn(2, 4), modality=["vision"])
    assert adapter.active_modality == "language"


@pytest.mark.parametrize("targets", [None, ["re:.*"]])
def test_a_base_model_without_submodules_is_named_with_the_way_to_wrap_it(targets: object) -> None:
    # "the default rule (nn.Linear with in_features == input_dim=8) matched no module of Linear" said
    # nothing of why an nn.Linear(8, 8) was not taken
    from adapters_lib import AdapterTargetError

    base = nn.Linear(8, 8)
    config = AdapterConfig(adapter_type="lora", input_dim=8, lora_r=2, target_modules=targets)
    with pytest.raises(AdapterTargetError, match=r"without submodules \(Linear\) is never wrapped itself.*nn\.Sequential\(model\)"):
        AdapterModel(base, config)
    assert AdapterModel(nn.Sequential(base), config.model_copy(update={"target_modules": None})).adapter_parameter_names()
