"""LoRA on a convolution that pads by reflection, replication or wrapping around: its A pads the
input as the layer does, so the update merges and unmerges exactly (such layers were refused).
PEFT pads its lora_A with zeros whatever the layer's mode, so such adapters are refused both ways
by the PEFT format, naming the modules, rather than computing other updates near the borders."""

from __future__ import annotations

import copy
import json

import pytest
import torch
from safetensors.torch import save_file
from torch import nn

from adapters_lib import AdapterConfig, AdapterModel, AdapterStateError


@pytest.mark.parametrize(
    ("make", "shape"),
    [
        (lambda: nn.Conv2d(3, 4, 3, padding=1, padding_mode="reflect"), (2, 3, 6, 6)),
        (lambda: nn.Conv1d(3, 4, 3, padding="same", padding_mode="circular"), (2, 3, 7)),
        (lambda: nn.Conv3d(2, 3, 3, padding=(1, 0, 1), padding_mode="replicate"), (1, 2, 4, 4, 4)),
    ],
)
def test_lora_on_a_convolution_padding_otherwise_than_with_zeros_adds_the_dense_update(make: object, shape: tuple) -> None:
    torch.manual_seed(0)
    conv = make()  # type: ignore[operator]
    reference, original = copy.deepcopy(conv), conv.weight.detach().clone()
    model = AdapterModel(nn.Sequential(conv), AdapterConfig(adapter_type="lora", target_modules=["0"], lora_r=2))
    with torch.no_grad():
        for p in model.adapter_parameters():
            p.normal_()
        reference.weight.add_(model.base_model[0].adapters["default"]["lora"].delta_weight())
    x = torch.randn(shape)
    torch.testing.assert_close(model(x), reference(x), rtol=1e-4, atol=1e-4)
    model.merge_adapters()
    torch.testing.assert_close(model(x), reference(x), rtol=1e-4, atol=1e-4)
    model.unmerge_adapters()
    assert torch.equal(model.base_model[0].base_layer.weight, original)


def test_the_peft_format_refuses_lora_on_a_convolution_padding_otherwise_than_with_zeros(tmp_path) -> None:  # type: ignore[no-untyped-def]
    def base() -> nn.Module:
        return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.Conv2d(4, 4, 3, padding=1, padding_mode="reflect"))

    model = AdapterModel(base(), AdapterConfig(adapter_type="lora", target_modules=["0", "1"], lora_r=2))
    with pytest.raises(AdapterStateError, match=r"convolutions \['1'\], whose padding_mode is not 'zeros'"):
        model.export_peft(tmp_path / "out")
    assert not (tmp_path / "out").exists()
    checkpoint = tmp_path / "peft"
    checkpoint.mkdir()
    (checkpoint / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA", "r": 2, "lora_alpha": 4}))
    save_file({"base_model.model.1.lora_A.weight": torch.zeros(2, 4, 3, 3), "base_model.model.1.lora_B.weight": torch.zeros(4, 2, 1, 1)},
              str(checkpoint / "adapter_model.safetensors"))
    plain = base()
    with pytest.raises(AdapterStateError, match=r"convolutions \['1'\], whose padding_mode is not 'zeros'"):
        AdapterModel.from_peft(plain, checkpoint)
    assert isinstance(plain[1], nn.Conv2d)
