"""load_adapters refuses a file of another format_version, naming the file and both versions:
save_adapters writes the version, and nothing read it, so a file of another layout was read as
this one's, into wrong weights or an error that called it damaged."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import save_file
from torch import nn

from adapters_lib import AdapterConfig, AdapterModel
from adapters_lib.files import read_safetensors


def _model() -> AdapterModel:
    return AdapterModel(nn.Sequential(nn.Linear(8, 8)), AdapterConfig(adapter_type="lora", input_dim=8, lora_r=2))


def _resaved(path, **changes: str):  # type: ignore[no-untyped-def]
    metadata, state = read_safetensors(path)
    metadata = {k: v for k, v in {**metadata, **changes}.items() if v is not None}
    save_file(state, str(path), metadata=metadata)
    return path


def test_a_file_of_another_format_version_is_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = _resaved(_model().save_adapters(tmp_path / "a.safetensors"), format_version="2")
    model = _model()
    before = {k: v.clone() for k, v in model.adapter_state_dict().items()}
    for name in ("default", "new"):
        with pytest.raises(ValueError, match=f"{str(path)!r} was saved in format_version '2'.*reads '1' only"):
            model.load_adapters(path, adapter_name=name)
    assert model.adapter_names == ["default"]
    assert all(torch.equal(v, before[k]) for k, v in model.adapter_state_dict().items())


def test_a_file_of_this_format_version_or_without_one_loads(tmp_path) -> None:  # type: ignore[no-untyped-def]
    saved = _model()
    with torch.no_grad():
        for p in saved.adapter_parameters():
            p.normal_()
    path = saved.save_adapters(tmp_path / "a.safetensors")
    assert _model().load_adapters(path, adapter_name="again") == "again"
    _resaved(path, format_version=None)
    model = _model()
    model.load_adapters(path)
    assert all(torch.equal(v, saved.adapter_state_dict()[k]) for k, v in model.adapter_state_dict().items())
