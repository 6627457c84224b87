"""PEFT import refuses a checkpoint whose initialisation changes the base weights (PiSSA, OLoRA,
CorDA, LoftQ), naming the field: PEFT runs that initialisation again when it loads the checkpoint,
so its A and B are relative to base weights the import left as they were, and the imported model
computed something else than PEFT's without a word."""

from __future__ import annotations

import json

import pytest
from torch import nn

from adapters_lib import AdaptedModule, AdapterConfig, AdapterModel


def _base() -> nn.Sequential:
    return nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 4))


@pytest.mark.parametrize("init", ["pissa", "pissa_niter_4", "olora", "OLoRA", "corda", "loftq"])
def test_a_checkpoint_on_changed_base_weights_is_refused(tmp_path, init: str) -> None:  # type: ignore[no-untyped-def]
    AdapterModel(_base(), AdapterConfig(adapter_type="lora", target_modules=["0"], lora_r=2)).export_peft(tmp_path)
    config_path = tmp_path / "adapter_config.json"
    config_path.write_text(json.dumps({**json.loads(config_path.read_text()), "init_lora_weights": init}))
    base = _base()
    with pytest.raises(ValueError, match=f"^init_lora_weights: {init!r} is not supported"):
        AdapterModel.from_peft(base, tmp_path)
    assert not any(isinstance(m, AdaptedModule) for m in base.modules())


@pytest.mark.parametrize("init", [True, False, "gaussian", "eva", "orthogonal"])
def test_a_checkpoint_on_unchanged_base_weights_loads(tmp_path, init: object) -> None:  # type: ignore[no-untyped-def]
    AdapterModel(_base(), AdapterConfig(adapter_type="lora", target_modules=["0"], lora_r=2)).export_peft(tmp_path)
    config_path = tmp_path / "adapter_config.json"
    config_path.write_text(json.dumps({**json.loads(config_path.read_text()), "init_lora_weights": init}))
    assert AdapterModel.from_peft(_base(), tmp_path).adapter_names == ["default"]
