"""Loading saved adapter weights into a set that exists: the settings must agree with the file's."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file, save_file
from torch import nn

from adapters_lib import AdapterConfig, AdapterModel, AdapterStateError, AdapterTargetError
from adapters_lib.files import read_safetensors


def _model(**settings: object) -> AdapterModel:
    torch.manual_seed(0)
    base = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 8))
    return AdapterModel(base, AdapterConfig(adapter_type="lora", input_dim=8, lora_r=2, **settings))


def _saved(tmp_path, **settings: object):  # type: ignore[no-untyped-def]
    model = _model(**settings)
    with torch.no_grad():
        for p in model.adapter_parameters():
            p.normal_()
    return model, model.save_adapters(tmp_path / "a.safetensors")


@pytest.mark.parametrize(
    ("saved", "here", "named"),
    [
        ({"lora_alpha": 32.0}, {"lora_alpha": 16.0}, "lora_alpha"),
        ({"lora_alpha": 16.0}, {"lora_alpha": 16.0, "use_rslora": True}, "use_rslora"),
    ],
)
def test_a_file_saved_with_other_settings_is_refused_and_nothing_loaded(tmp_path, saved, here, named) -> None:  # type: ignore[no-untyped-def]
    _, path = _saved(tmp_path, **saved)
    model = _model(**here)
    before = model.adapter_state_dict()
    with pytest.raises(AdapterStateError, match=named):
        model.load_adapters(path)
    assert all(torch.equal(before[k], v) for k, v in model.adapter_state_dict().items())


def test_settings_that_change_no_computation_may_differ(tmp_path) -> None:  # type: ignore[no-untyped-def]
    trained, path = _saved(tmp_path, lora_alpha=32.0, dropout=0.1, seed=3)
    model = _model(lora_alpha=32.0, target_modules=["0", "2"])
    assert model.load_adapters(path) == "default"
    trained.eval()
    x = torch.randn(4, 8)
    assert torch.equal(model(x), trained(x))


def test_settings_are_compared_module_by_module(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # two LoRA configs, alpha 2 on "0" and 32 on "2": a set with the alphas the other way round gives
    # the type the same values, yet would scale each module's weights by the other's alpha
    def model(alpha_0: float, alpha_2: float) -> AdapterModel:
        base = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 4))
        return AdapterModel(base, [AdapterConfig(adapter_type="lora", lora_r=2, lora_alpha=alpha_0, target_modules=["0"]),
                                   AdapterConfig(adapter_type="lora", lora_r=2, lora_alpha=alpha_2, target_modules=["2"])])

    path = model(2.0, 32.0).save_adapters(tmp_path / "a.safetensors")
    swapped = model(32.0, 2.0)
    before = swapped.adapter_state_dict()
    with pytest.raises(AdapterStateError, match=r"lora_alpha: file 2.0, set 32.0 on \['0'\]; lora lora_alpha: file 32.0, set 2.0 on \['2'\]"):
        swapped.load_adapters(path)
    assert all(torch.equal(before[k], v) for k, v in swapped.adapter_state_dict().items())
    assert model(2.0, 32.0).load_adapters(path) == "default"


def test_a_file_whose_configs_target_modules_the_model_lacks_is_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # the weight keys match the set's, but the configs name a module this model does not have
    _, path = _saved(tmp_path)
    metadata, _ = read_safetensors(path)
    configs = json.loads(metadata["configs"])
    configs[0]["target_modules"] = ["0", "2", "decoder.proj"]
    save_file(load_file(path), path, metadata={**metadata, "configs": json.dumps(configs)})
    model = _model()
    before = model.adapter_state_dict()
    with pytest.raises(AdapterTargetError, match=r"path: .*'decoder.proj'.* nothing was loaded into set 'default'"):
        model.load_adapters(path)
    assert all(torch.equal(before[k], v) for k, v in model.adapter_state_dict().items())
