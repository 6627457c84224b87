"""A PEFT checkpoint whose LoRA weights have the wrong shape is refused naming the checkpoint's own
key, its shape and the expected one: the error named our internal key (``state['0.lora.lora_A']``),
and a 1-D ``lora_A`` had its length read as the rank (a 0-D one crashed with an IndexError). An
embedding's LoRA without one of its weights is named by its own key, ``lora_embedding_B``."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import load_file, save_file
from torch import nn

from adapters_lib import AdaptedModule, AdapterConfig, AdapterDimensionError, AdapterKeyError, AdapterModel
from adapters_lib.peft_format import WEIGHTS_NAME

A, B = "base_model.model.0.lora_A.weight", "base_model.model.0.lora_B.weight"


def _base() -> nn.Sequential:
    return nn.Sequential(nn.Linear(8, 6))


def _checkpoint(path, **changed: torch.Tensor):  # type: ignore[no-untyped-def]
    out = AdapterModel(_base(), AdapterConfig(adapter_type="lora", input_dim=8, lora_r=2)).export_peft(path)
    save_file({**load_file(str(out / WEIGHTS_NAME)), **{A if k == "A" else B: v for k, v in changed.items()}}, str(out / WEIGHTS_NAME))
    return out


@pytest.mark.parametrize(
    ("changed", "message"),
    [
        ({"B": torch.zeros(5, 2)}, rf"^state: '{B}' has shape \(5, 2\), expected \(6, 2\) for the LoRA on '0'"),
        ({"A": torch.zeros(2, 7)}, rf"^state: '{A}' has shape \(2, 7\), expected \(2, 8\) for the LoRA on '0'"),
        ({"A": torch.zeros(8)}, rf"^state: '{A}' has shape \(8,\), expected a 2-D tensor for the LoRA on '0' \(Linear\)$"),
        ({"A": torch.zeros(())}, rf"^state: '{A}' has shape \(\), expected a 2-D tensor "),
        ({"B": torch.zeros(6, 2, 1)}, rf"^state: '{B}' has shape \(6, 2, 1\), expected a 2-D tensor "),
    ],
)
def test_a_misshapen_lora_weight_is_named_as_the_checkpoint_names_it(tmp_path, changed: dict, message: str) -> None:  # type: ignore[no-untyped-def]
    path = _checkpoint(tmp_path, **changed)
    base = _base()
    with pytest.raises(AdapterDimensionError, match=message):
        AdapterModel.from_peft(base, path)
    assert not any(isinstance(m, AdaptedModule) for m in base.modules())
    model = AdapterModel(base, AdapterConfig(adapter_type="bitfit"))
    with pytest.raises(AdapterDimensionError, match=message):
        model.load_peft(path, adapter_name="imported")
    assert model.adapter_names == ["default"]


@pytest.mark.parametrize(("kept", "lacking"), [("lora_embedding_A", "lora_embedding_B"), ("lora_embedding_B", "lora_embedding_A")])
def test_an_embedding_without_its_partner_weight_names_the_embedding_key(tmp_path, kept: str, lacking: str) -> None:  # type: ignore[no-untyped-def]
    # it said "lacks lora_B.weight", a key an embedding's LoRA never has
    def base() -> nn.Sequential:
        return nn.Sequential(nn.Embedding(10, 4))

    out = AdapterModel(base(), AdapterConfig(adapter_type="lora", target_modules=["0"], lora_r=2)).export_peft(tmp_path)
    save_file({f"base_model.model.0.{kept}": load_file(str(out / WEIGHTS_NAME))[f"base_model.model.0.{kept}"]}, str(out / WEIGHTS_NAME))
    with pytest.raises(AdapterKeyError, match=rf"^state: module '0' lacks {lacking}$"):
        AdapterModel.from_peft(base(), out)


@pytest.mark.parametrize(
    ("patterns", "message"),
    [
        ("0", r"^alpha_pattern: expected a mapping of module regex -> value, got '0'$"),
        (["0"], r"^alpha_pattern: expected a mapping of module regex -> value, got \['0'\]$"),
        ({"(": 4}, r"^alpha_pattern: '\(' is not a valid regex \(missing \), unterminated subpattern at position 0\)$"),
    ],
)
def test_an_alpha_pattern_that_is_no_mapping_of_regexes_is_named(tmp_path, patterns: object, message: str) -> None:  # type: ignore[no-untyped-def]
    # it failed with AttributeError: 'str' object has no attribute 'items', or re.error
    import json

    out = _checkpoint(tmp_path)
    config = json.loads((out / "adapter_config.json").read_text())
    (out / "adapter_config.json").write_text(json.dumps({**config, "alpha_pattern": patterns}))
    with pytest.raises(ValueError, match=message):
        AdapterModel.from_peft(_base(), out)


@pytest.mark.parametrize(
    ("base", "message"),
    [
        ("model.pt", r"^base_model: expected an nn.Module, got str$"),
        (None, r"^base_model: expected an nn.Module, got NoneType$"),
        (AdapterModel(_base(), AdapterConfig(adapter_type="bitfit")), r"^base_model: already an AdapterModel; add sets to it .*load_peft"),
    ],
)
def test_from_peft_names_a_base_model_it_cannot_wrap(tmp_path, base: object, message: str) -> None:  # type: ignore[no-untyped-def]
    # an AttributeError ('str' object has no attribute '_modules'), and for an AdapterModel "the
    # checkpoint adapts ['0'], which AdapterModel lacks" (its modules are named base_model.0)
    with pytest.raises(TypeError, match=message):
        AdapterModel.from_peft(base, _checkpoint(tmp_path))
