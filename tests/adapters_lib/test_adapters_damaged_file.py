"""load_adapters refuses a file's metadata that cannot make a set naming the file: a saved set name
that is not an identifier (with how to load it under another), no configs, or target_modules that
match no module of the model (said only of a set that existed before; a new set's error named
neither the file nor that the configs came from it); and tensors that do not fit the set (named
"state", as if the caller had passed them); and metadata JSON nested deeper than the decoder
follows (a RecursionError)."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import save_file
from torch import nn

from adapters_lib import AdapterConfig, AdapterDimensionError, AdapterKeyError, AdapterModel, AdapterTargetError
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


@pytest.mark.parametrize(
    ("configs", "error", "message"),
    [
        ("[]", ValueError, "metadata 'configs': expected a list of configs, got '\\[\\]'"),
        ('[{"adapter_type": "lora", "lora_r": 2, "target_modules": ["nowhere"]}]', AdapterTargetError,
         "holds configs whose target_modules match no module of this model \\('nowhere'"),
    ],
)
def test_a_new_set_from_configs_that_cannot_make_it_names_the_file(tmp_path, configs, error, message) -> None:  # type: ignore[no-untyped-def]
    path = _model().save_adapters(tmp_path / "a.safetensors")
    metadata, state = read_safetensors(path)
    save_file(state, str(path), metadata={**metadata, "configs": configs})
    model = _model()
    with pytest.raises(error, match=rf"^path: {str(path)!r}.*{message}"):
        model.load_adapters(path, adapter_name="new")
    assert model.adapter_names == ["default"]


@pytest.mark.parametrize("name", ["default", "new"])
def test_tensors_that_do_not_fit_the_set_name_the_file(tmp_path, name) -> None:  # type: ignore[no-untyped-def]
    path = _model().save_adapters(tmp_path / "a.safetensors")
    metadata, state = read_safetensors(path)
    key = next(iter(state))
    edits = [
        ({**state, key: state[key][:1].clone()}, AdapterDimensionError, rf"tensors\[{key!r}\]: shape"),
        ({k: v for k, v in state.items() if k != key}, AdapterKeyError, rf"tensors: missing keys \[{key!r}\]"),
    ]
    model = _model()
    before = {k: v.clone() for k, v in model.adapter_state_dict().items()}
    for tensors, error, message in edits:
        save_file(tensors, str(path), metadata=metadata)
        with pytest.raises(error, match=rf"^path: {str(path)!r}, {message}"):
            model.load_adapters(path, adapter_name=name)
    assert model.adapter_names == ["default"]
    assert all(torch.equal(v, before[k]) for k, v in model.adapter_state_dict().items())


@pytest.mark.parametrize("field", ["configs", "modalities"])
def test_metadata_nested_too_deep_for_the_decoder_names_the_file(tmp_path, field) -> None:  # type: ignore[no-untyped-def]
    path = _model().save_adapters(tmp_path / "a.safetensors")
    metadata, state = read_safetensors(path)
    save_file(state, str(path), metadata={**metadata, field: "[" * 100_000 + "]" * 100_000})
    model = _model()
    with pytest.raises(ValueError, match=rf"^path: {str(path)!r}, metadata '{field}': not valid JSON \(maximum recursion depth"):
        model.load_adapters(path, adapter_name="new")
    assert model.adapter_names == ["default"]
