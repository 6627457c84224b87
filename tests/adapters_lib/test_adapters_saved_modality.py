"""``save_adapters`` keeps the active modality of a set's multi-modal adapters, and
``load_adapters`` restores it: loaded, the set served its first modality whatever it was saved
with. Files saved before it was kept still load."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file
from torch import nn

from adapters_lib import AdapterConfig, AdapterModel
from adapters_lib.files import read_safetensors


def _model() -> AdapterModel:
    torch.manual_seed(0)
    base = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 8))
    return AdapterModel(base, AdapterConfig(adapter_type="multimodal", input_dim=8, hidden_dim=4, modalities=("text", "audio")))


def _modalities(model: AdapterModel, adapter_name: str = "default") -> list[str]:
    return [a.active_modality for _, set_name, a in model._held() if set_name == adapter_name]


def test_the_active_modality_comes_back_in_a_new_set_and_in_one_that_exists(tmp_path: Path) -> None:
    model = _model()
    with torch.no_grad():
        for p in model.adapter_parameters():
            p.normal_()
    model.set_modality("audio")
    path = model.save_adapters(tmp_path / "a.safetensors")
    for name in (None, "copy"):  # into the set that exists (on "text"), and into a new set
        fresh = _model()
        assert _modalities(fresh) == ["text", "text"]
        loaded = fresh.load_adapters(path, adapter_name=name)
        assert _modalities(fresh, loaded) == ["audio", "audio"]
    fresh.set_active_adapters("copy")
    x = torch.randn(3, 8)
    assert torch.equal(fresh(x), model(x))  # it computes what the saved model did


def _without_modalities(path: Path) -> Path:
    metadata, state = read_safetensors(path)
    del metadata["modalities"]
    save_file(state, str(path), metadata=metadata)
    return path


def test_a_file_saved_before_the_modality_was_kept_still_loads(tmp_path: Path) -> None:
    model = _model()
    model.set_modality("audio")
    path = _without_modalities(model.save_adapters(tmp_path / "a.safetensors"))
    fresh = _model()
    fresh.set_modality("audio")
    fresh.load_adapters(path)  # the set keeps its own
    assert _modalities(fresh) == ["audio", "audio"]
    assert _modalities(fresh, fresh.load_adapters(path, adapter_name="copy")) == ["text", "text"]  # a new one its first


def test_a_saved_modality_the_set_lacks_is_refused_naming_it_and_nothing_changes(tmp_path: Path) -> None:
    model = _model()
    path = model.save_adapters(tmp_path / "a.safetensors")
    metadata, state = read_safetensors(path)
    metadata["modalities"] = metadata["modalities"].replace('"text"', '"video"', 1)
    save_file({k: v + 1 for k, v in state.items()}, str(path), metadata=metadata)
    fresh = _model()
    before = fresh.adapter_state_dict()
    with pytest.raises(ValueError, match=r"metadata 'modalities'\['0'\]: 'video' is not a modality of set 'default'"):
        fresh.load_adapters(path)
    assert _modalities(fresh) == ["text", "text"]
    assert all(torch.equal(v, fresh.adapter_state_dict()[k]) for k, v in before.items())
    with pytest.raises(ValueError, match="'video'"):
        fresh.load_adapters(path, adapter_name="copy")
    assert fresh.adapter_names == ["default"]
