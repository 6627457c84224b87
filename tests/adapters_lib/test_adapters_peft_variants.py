"""PEFT import refuses the LoRA variants whose forward is not plain LoRA's, naming the field: taken
as plain LoRA they would compute something else than PEFT does with the same checkpoint."""

from __future__ import annotations

import json

import pytest
from torch import nn

from adapters_lib import AdaptedModule, AdapterConfig, AdapterModel


def _base() -> nn.Sequential:
    return nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 4))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("alora_invocation_tokens", [5, 6]),
        ("use_bdlora", {"target_modules_bd_a": ["0"], "target_modules_bd_b": [], "nblocks": 2}),
        ("monteclora_config", {"n_samples": 4}),
        ("arrow_config", {"top_k": 2}),
        ("kasa_config", {"beta": 0.1}),
        ("target_parameters", ["0.weight"]),
    ],
)
def test_a_lora_variant_checkpoint_is_refused_naming_the_field(tmp_path, field: str, value: object) -> None:  # type: ignore[no-untyped-def]
    AdapterModel(_base(), AdapterConfig(adapter_type="lora", target_modules=["0"], lora_r=2)).export_peft(tmp_path)
    config_path = tmp_path / "adapter_config.json"
    config_path.write_text(json.dumps({**json.loads(config_path.read_text()), field: value}))
    base = _base()
    with pytest.raises(ValueError, match=f"^{field}: "):
        AdapterModel.from_peft(base, tmp_path)
    assert not any(isinstance(m, AdaptedModule) for m in base.modules())
    model = AdapterModel(base, AdapterConfig(adapter_type="bitfit", target_modules=["2"]))
    with pytest.raises(ValueError, match=f"^{field}: "):
        model.load_peft(tmp_path, adapter_name="imported")
    assert model.adapter_names == ["default"]
