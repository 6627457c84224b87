"""LoRA on every convolution PEFT adapts: nn.Conv1d and nn.Conv3d as well as nn.Conv2d, and layers
padded with "same" or "valid". Each was refused as a module LoRA cannot wrap; now the update is
``A`` convolved as the layer convolves and a 1x1 ``B``, it merges and unmerges exactly, and PEFT
runs our export with the same outputs."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from adapters_lib import AdapterConfig, AdapterModel

CASES = {
    "conv1d strided": (lambda: nn.Conv1d(3, 5, 3, stride=2, padding=1), (2, 3, 9)),
    "conv1d unbatched": (lambda: nn.Conv1d(3, 5, 3, padding=1), (3, 9)),
    "conv3d": (lambda: nn.Conv3d(3, 4, (3, 1, 3), padding=(1, 0, 1)), (2, 3, 5, 4, 5)),
    "conv2d same, even kernel": (lambda: nn.Conv2d(3, 4, 4, padding="same"), (2, 3, 7, 7)),
    "conv1d valid, no bias": (lambda: nn.Conv1d(3, 4, 3, padding="valid", bias=False), (2, 3, 8)),
}


def _adapted(make: object, seed: int = 0) -> tuple[AdapterModel, nn.Module]:
    torch.manual_seed(seed)
    conv = make()  # type: ignore[operator]
    reference = copy.deepcopy(conv)
    model = AdapterModel(nn.Sequential(conv), AdapterConfig(adapter_type="lora", target_modules=["0"], lora_r=2, lora_alpha=4))
    generator = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for p in model.adapter_parameters():
            p.copy_(torch.randn(p.shape, generator=generator) * 0.3)
    return model, reference


@pytest.mark.filterwarnings("ignore:Using padding=.same. with even kernel")
@pytest.mark.parametrize("case", CASES)
def test_lora_on_a_convolution_adds_the_dense_update_and_merges_exactly(case: str) -> None:
    make, shape = CASES[case]
    model, reference = _adapted(make)
    original = reference.weight.detach().clone()
    with torch.no_grad():
        reference.weight.add_(model.base_model[0].adapters["default"]["lora"].delta_weight())
    x = torch.randn(shape, generator=torch.Generator().manual_seed(7))
    expected = reference(x)
    torch.testing.assert_close(model(x), expected, rtol=1e-5, atol=1e-5)
    model.merge_adapters()
    torch.testing.assert_close(model(x), expected, rtol=1e-5, atol=1e-5)
    model.unmerge_adapters()
    assert torch.equal(model.base_model[0].base_layer.weight, original)


@pytest.mark.filterwarnings("ignore:Using padding=.same. with even kernel")
@pytest.mark.parametrize("case", ["conv1d strided", "conv3d", "conv2d same, even kernel"])
def test_peft_runs_our_export_of_lora_on_a_convolution(case: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    peft = pytest.importorskip("peft")
    make, shape = CASES[case]
    ours, _ = _adapted(make)
    ours.export_peft(tmp_path)
    torch.manual_seed(0)
    theirs = peft.PeftModel.from_pretrained(nn.Sequential(make()), tmp_path)  # type: ignore[operator]
    x = torch.randn(shape, generator=torch.Generator().manual_seed(7))
    torch.testing.assert_close(theirs(x), ours(x), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kernel_size", [3, (3, 3, 3, 3), ()])
def test_a_conv_description_with_a_kernel_of_no_supported_shape_is_named(kernel_size: object) -> None:
    from adapters_lib import LoRAAdapter

    conv = {"kernel_size": kernel_size, "stride": (1,), "padding": (0,), "dilation": (1,)}
    with pytest.raises(ValueError, match=r"^conv: kernel_size must be the convolution's tuple of 1, 2 or 3 sizes"):
        LoRAAdapter(AdapterConfig(adapter_type="lora", input_dim=3), 3, 4, conv=conv)


@pytest.mark.filterwarnings("ignore:Using padding=.same. with even kernel")
@pytest.mark.parametrize("case", ["conv1d strided", "conv3d", "conv2d same, even kernel"])
def test_a_peft_checkpoint_of_lora_on_a_convolution_imports_with_peft_outputs(case: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    peft = pytest.importorskip("peft")
    make, shape = CASES[case]
    torch.manual_seed(0)
    theirs = peft.get_peft_model(nn.Sequential(make()), peft.LoraConfig(r=2, lora_alpha=4, target_modules=["0"]))  # type: ignore[operator]
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, p in theirs.named_parameters():
            if "lora_" in name:
                p.copy_(torch.randn(p.shape, generator=generator) * 0.3)
    theirs.save_pretrained(str(tmp_path))
    torch.manual_seed(0)
    ours = AdapterModel.from_peft(nn.Sequential(make()), tmp_path)  # type: ignore[operator]
    x = torch.randn(shape, generator=torch.Generator().manual_seed(7))
    torch.testing.assert_close(ours(x), theirs(x), rtol=1e-5, atol=1e-5)
