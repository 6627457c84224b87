"""PEFT export refuses LoRA on a dilated convolution, which PEFT cannot run (its lora_A has no dilation)."""

from __future__ import annotations

import pytest
from torch import nn

from adapters_lib import AdapterConfig, AdapterModel, AdapterStateError


@pytest.mark.parametrize("conv", [nn.Conv1d, nn.Conv2d, nn.Conv3d])
def test_export_of_lora_on_a_dilated_conv_is_refused_and_writes_nothing(tmp_path, conv: type[nn.Module]) -> None:  # type: ignore[no-untyped-def]
    base = nn.Sequential(conv(3, 4, 3, padding=1), conv(4, 4, 3, padding=2, dilation=2))
    model = AdapterModel(base, AdapterConfig(adapter_type="lora", target_modules=["0", "1"], lora_r=2))
    with pytest.raises(AdapterStateError, match=r"dilated convolutions \['1'\]"):
        model.export_peft(tmp_path / "peft")
    assert not (tmp_path / "peft").exists()
