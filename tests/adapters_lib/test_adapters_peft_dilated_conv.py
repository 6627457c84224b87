"""PEFT export refuses LoRA on a dilated Conv2d, which PEFT cannot run (its lora_A has no dilation)."""

from __future__ import annotations

import pytest
from torch import nn

from adapters_lib import AdapterConfig, AdapterModel, AdapterStateError


def test_export_of_lora_on_a_dilated_conv_is_refused_and_writes_nothing(tmp_path) -> None:  # type: ignore[no-untyped-def]
    base = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.Conv2d(4, 4, 3, padding=2, dilation=2))
    model = AdapterModel(base, AdapterConfig(adapter_type="lora", target_modules=["0", "1"], lora_r=2))
    with pytest.raises(AdapterStateError, match=r"dilated Conv2d modules \['1'\]"):
        model.export_peft(tmp_path / "peft")
    assert not (tmp_path / "peft").exists()
