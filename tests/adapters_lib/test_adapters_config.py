"""Bad input: every rejected config or call names the field and the value."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from torch import nn

from adapters_lib import AdapterConfig, AdapterModel, AdapterType, LoRAAdapter, adapter_class


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"adapter_type": "lora", "input_dim": 8, "lora_r": 0}, "lora_r"),
        ({"adapter_type": "lora", "input_dim": 8, "lora_r": -2}, "lora_r"),
        ({"adapter_type": "lora", "input_dim": 8, "lora_alpha": 0}, "lora_alpha"),
        ({"adapter_type": "lora", "input_dim": 8, "lora_alpha": -1.5}, "lora_alpha"),
        ({"adapter_type": "lorra", "input_dim": 8}, "adapter_type"),
        ({"adapter_type": "lora", "input_dim": 0}, "input_dim"),
        ({"adapter_type": "lora"}, "input_dim"),
        ({"adapter_type": "lora", "input_dim": 8, "lora_rank": 4}, "lora_rank"),
        ({"adapter_type": "lora", "input_dim": 8, "dropout": 1.0}, "dropout"),
        ({"adapter_type": "lora", "input_dim": 8, "target_modules": []}, "target_modules"),
        ({"adapter_type": "lora", "input_dim": 8, "target_modules": ["re:(unclosed"]}, "target_modules"),
        ({"adapter_type": "compacter", "input_dim": 10, "phm_dim": 4}, "phm_dim"),
        ({"adapter_type": "linear", "input_dim": 8, "hidden_dim": 16}, "hidden_dim"),
        ({"adapter_type": "multimodal", "input_dim": 8, "modalities": ["text", "text"]}, "modalities"),
        ({"adapter_type": "adapter", "input_dim": 8, "placement": "beside"}, "placement"),
        # gt=0 alone lets inf through: an infinite alpha times LoRA's zero-initialised B is NaN
        ({"adapter_type": "lora", "input_dim": 8, "lora_alpha": float("inf")}, "lora_alpha"),
        ({"adapter_type": "adapter", "input_dim": 8, "adapter_scaling": float("inf")}, "adapter_scaling"),
        ({"adapter_type": "prefix", "input_dim": 8, "init_std": float("inf")}, "init_std"),
    ],
)
def test_invalid_configs_name_the_field(fields: dict, field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        AdapterConfig(**fields)


NUMBER_FIELDS = ["input_dim", "hidden_dim", "lora_r", "lora_alpha", "dropout", "adapter_scaling", "num_prefix_tokens",
                 "phm_dim", "phm_rank", "init_std", "seed"]


@pytest.mark.parametrize("field", NUMBER_FIELDS)
@pytest.mark.parametrize("flag", [True, False, np.True_])
def test_a_bool_is_no_number_for_any_numeric_field(field: str, flag: object) -> None:
    # Python counts True as 1: lora_r=True would have been a rank-1 adapter
    with pytest.raises(ValidationError, match=rf"{field}: expected a number, not a bool, got {flag!r}"):
        AdapterConfig(**{"adapter_type": "lora", "input_dim": 8, field: flag})


@pytest.mark.parametrize("value", [1, "yes", "true"])
def test_use_rslora_takes_only_a_bool(value: object) -> None:
    with pytest.raises(ValidationError, match="use_rslora"):
        AdapterConfig(adapter_type="lora", input_dim=8, use_rslora=value)
    assert AdapterConfig(adapter_type="lora", input_dim=8, lora_r=4, lora_alpha=4, use_rslora=True).lora_scaling == 2.0


def test_unknown_type_in_registry_and_in_enable() -> None:
    with pytest.raises(ValueError, match="adapter_type: unknown 'ia3'"):
        adapter_class("ia3")
    model = AdapterModel(nn.Sequential(nn.Linear(4, 4)), AdapterConfig(adapter_type="lora", input_dim=4, lora_r=2))
    with pytest.raises(ValueError, match="adapter_types: unknown adapter type 'ia3'"):
        model.enable_adapters(["ia3"])


def test_standalone_adapter_needs_input_dim() -> None:
    with pytest.raises(ValueError, match="input_dim"):
        LoRAAdapter(AdapterConfig(adapter_type="lora", target_modules=["x"]))


def test_config_is_a_type_error_when_not_a_config() -> None:
    with pytest.raises(TypeError, match=r"adapter_configs\[1\]"):
        AdapterModel(nn.Sequential(nn.Linear(4, 4)), [AdapterConfig(adapter_type="bitfit"), {"adapter_type": "lora"}])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="base_model"):
        AdapterModel("not a module", AdapterConfig(adapter_type="bitfit"))  # type: ignore[arg-type]


def test_single_string_target_is_accepted() -> None:
    assert AdapterConfig(adapter_type="lora", target_modules="q").target_modules == ("q",)


@settings(max_examples=25, deadline=None)
@given(
    in_features=st.integers(1, 12),
    out_features=st.integers(1, 12),
    r=st.integers(1, 6),
    alpha=st.floats(0.1, 32.0),
    rows=st.integers(1, 4),
    seed=st.integers(0, 2**16),
)
def test_lora_matches_the_formula_for_any_shape(in_features: int, out_features: int, r: int, alpha: float, rows: int, seed: int) -> None:
    generator = torch.Generator().manual_seed(seed)
    layer = nn.Linear(in_features, out_features)
    model = AdapterModel(nn.Sequential(layer), AdapterConfig(adapter_type=AdapterType.LORA, target_modules=["0"], lora_r=r, lora_alpha=alpha))
    adapter = model.base_model[0].adapters["default"]["lora"]
    with torch.no_grad():
        adapter.lora_B.copy_(torch.randn(adapter.lora_B.shape, generator=generator))
    x = torch.randn(rows, in_features, generator=generator)
    expected = layer(x) + (alpha / r) * (x @ adapter.lora_A.T @ adapter.lora_B.T)
    torch.testing.assert_close(model(x), expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("use_rslora", "false", "^use_rslora: .*got 'false'"),  # bool("false") is True
        ("lora_alpha", True, "^lora_alpha: expected a number, not a bool, got True"),
        ("lora_dropout", "much", "^lora_dropout: .*got 'much'"),  # as the checkpoint names it, not "dropout"
    ],
)
def test_a_peft_config_value_of_the_wrong_kind_is_named_not_coerced(tmp_path, field: str, value: object, message: str) -> None:  # type: ignore[no-untyped-def]
    import json

    model = AdapterModel(nn.Sequential(nn.Linear(8, 8)), AdapterConfig(adapter_type="lora", input_dim=8, lora_r=2))
    out = model.export_peft(tmp_path)
    config = json.loads((out / "adapter_config.json").read_text())
    (out / "adapter_config.json").write_text(json.dumps({**config, field: value}))
    with pytest.raises(ValueError, match=message):
        AdapterModel.from_peft(nn.Sequential(nn.Linear(8, 8)), out)


@pytest.mark.parametrize("field", NUMBER_FIELDS)
@pytest.mark.parametrize("text", ["4", b"4"])
def test_a_number_string_is_no_number_for_any_numeric_field(field: str, text: object) -> None:
    # pydantic reads "4" as 4: a value read from text and not converted, which meta's options refuse too
    with pytest.raises(ValidationError, match=rf"{field}: expected a number, not a {type(text).__name__}, got {text!r}"):
        AdapterConfig(**{"adapter_type": "lora", "input_dim": 8, field: text})


@pytest.mark.parametrize("field", ["input_dim", "hidden_dim", "lora_r", "num_prefix_tokens", "phm_dim", "phm_rank", "seed"])
@pytest.mark.parametrize("value", [4.0, np.float64(4)])
def test_a_whole_float_is_no_integer_for_an_integer_field(field: str, value: object) -> None:
    # pydantic reads 4.0 as 4: a saved "lora_r": 4.0 is damage, which meta's options refuse too
    with pytest.raises(ValidationError, match=re.escape(f"{field}: expected an integer, not a {type(value).__name__}, got {value!r}")):
        AdapterConfig(**{"adapter_type": "lora", "input_dim": 8, field: value})
    assert AdapterConfig(**{"adapter_type": "lora", "input_dim": 8, field: np.int64(4)}).model_dump()[field] == 4
