"""load_adapters takes a file's set name only where it is an identifier, and otherwise says that the
name came from the file (a damaged or hand-edited one) and how to load it under another."""

from __future__ import annotations

import pytest
from safetensors.torch import save_file
from torch import nn

from adapters_lib import AdapterConfig, AdapterModel
from adapters_lib.files import read_safetensors


def _model() -> AdapterModel:
    return AdapterModel(nn.Sequential(nn.Linear(8, 8)), AdapterConfig(adapter_type="lora", input_dim=8, lora_r=2))


def test_a_saved_set_name_that_is_not_an_identifier_names_the_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = _model().save_adapters(tmp_path / "a.safetensors")
    metadata, state = read_safetensors(path)
    save_file(state, str(path), metadata={**metadata, "adapter_name": "bad name"})
    model = _model()
    with pytest.raises(ValueError, match=rf"^path: {str(path)!r}, metadata 'adapter_name': 'bad name' is not an identifier"):
        model.load_adapters(path)
    assert model.adapter_names == ["default"]
    assert model.load_adapters(path, adapter_name="renamed") == "renamed"
