"""A config changed with ``model_copy(update=...)``, which pydantic does not validate (and which the
custom-adapter example uses to set adapter_class), is checked when its set is added: a rank of 0
failed with ZeroDivisionError, a negative alpha or a dropout of 2 ran or failed in torch's words,
and an adapter class that is no class failed with AttributeError. Each is now refused naming the
field, and the model is left as it was."""

from __future__ import annotations

import pytest
import torch
from pydantic import ValidationError
from torch import nn

from adapters_lib import AdapterConfig, AdapterModel


@pytest.mark.parametrize(
    ("update", "field"),
    [({"lora_r": 0}, "lora_r"), ({"lora_alpha": -1.0}, "lora_alpha"), ({"dropout": 2.0}, "dropout"), ({"adapter_class": 3}, "adapter_class")],
)
def test_a_config_copied_with_a_bad_value_is_refused_naming_the_field(update: dict, field: str) -> None:
    base = nn.Sequential(nn.Linear(8, 8))
    config = AdapterConfig(adapter_type="lora", input_dim=8).model_copy(update=update)
    with pytest.raises(ValidationError, match=field):
        AdapterModel(base, config)
    assert isinstance(base[0], nn.Linear) and all(p.requires_grad for p in base.parameters())
    model = AdapterModel(base, AdapterConfig(adapter_type="bitfit", target_modules="0"))
    with pytest.raises(ValidationError, match=field):
        model.add_adapter("copied", config)
    assert model.adapter_names == ["default"] and model.adapter_parameter_names() == ["base_model.0.adapters.default.bitfit.bias_delta"]


def test_a_copied_config_with_good_values_still_works() -> None:
    config = AdapterConfig(adapter_type="lora", input_dim=8).model_copy(update={"lora_r": 2, "target_modules": ("0",)})
    model = AdapterModel(nn.Sequential(nn.Linear(8, 8)), config)
    assert model.base_model[0].adapters["default"]["lora"].lora_A.shape == (2, 8)
    assert model(torch.randn(3, 8)).shape == (3, 8)
