"""Parity with PEFT's LoRA, and PEFT's on-disk format both ways (through PEFT itself)."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from adapters_lib import AdapterConfig, AdapterModel

peft = pytest.importorskip("peft")


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.block = nn.ModuleDict({"fc": nn.Linear(4 * 6 * 6, 32)})
        self.fc = nn.Linear(32, 32)  # shares the suffix "fc" with block.fc
        self.out = nn.Linear(32, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.conv(x)).flatten(1)
        return self.out(torch.relu(self.fc(torch.relu(self.block["fc"](h)))))


def make_base() -> Net:
    torch.manual_seed(0)
    return Net()


def randomise(params: list[torch.nn.Parameter], seed: int) -> None:
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in params:
            p.copy_(torch.randn(p.shape, generator=generator) * 0.2)


def x() -> torch.Tensor:
    return torch.randn(3, 3, 6, 6, generator=torch.Generator().manual_seed(5))


def test_same_weights_same_outputs_as_peft() -> None:
    ours = AdapterModel(make_base(), AdapterConfig(adapter_type="lora", target_modules=["block.fc", "conv"], lora_r=4, lora_alpha=8))
    theirs = peft.get_peft_model(make_base(), peft.LoraConfig(r=4, lora_alpha=8, target_modules=["block.fc", "conv"]))
    randomise(ours.adapter_parameters(), 1)
    for name, module in theirs.named_modules():
        if hasattr(module, "lora_A") and "default" in getattr(module, "lora_A", {}):
            logical = name.removeprefix("base_model.model.")
            mine = dict(ours._set_tensors("default"))
            module.lora_A["default"].weight.data.copy_(mine[f"{logical}.lora.lora_A"])
            module.lora_B["default"].weight.data.copy_(mine[f"{logical}.lora.lora_B"])
    torch.testing.assert_close(ours(x()), theirs(x()), rtol=1e-5, atol=1e-5)


def test_our_export_loads_in_peft(tmp_path) -> None:  # type: ignore[no-untyped-def]
    ours = AdapterModel(make_base(), [
        AdapterConfig(adapter_type="lora", target_modules=["fc"], lora_r=4, lora_alpha=8),  # fc and block.fc
        AdapterConfig(adapter_type="lora", target_modules=["conv"], lora_r=2, lora_alpha=3),
    ])
    randomise(ours.adapter_parameters(), 2)
    ours.export_peft(tmp_path)
    config = json.loads((tmp_path / "adapter_config.json").read_text())
    assert config["peft_type"] == "LORA" and config["r"] == 4
    theirs = peft.PeftModel.from_pretrained(make_base(), tmp_path)
    torch.testing.assert_close(theirs(x()), ours(x()), rtol=1e-5, atol=1e-5)


def test_export_targets_exactly_the_wrapped_modules(tmp_path) -> None:  # type: ignore[no-untyped-def]
    ours = AdapterModel(make_base(), AdapterConfig(adapter_type="lora", target_modules=["re:fc"], lora_r=2))
    randomise(ours.adapter_parameters(), 3)
    ours.export_peft(tmp_path)
    theirs = peft.PeftModel.from_pretrained(make_base(), tmp_path)
    wrapped = {n for n, m in theirs.named_modules() if isinstance(m, peft.tuners.lora.LoraLayer)}
    assert wrapped == {"base_model.model.fc"}  # not block.fc, though it ends with ".fc"
    torch.testing.assert_close(theirs(x()), ours(x()), rtol=1e-5, atol=1e-5)


def test_peft_checkpoint_imports_into_ours(tmp_path) -> None:  # type: ignore[no-untyped-def]
    config = peft.LoraConfig(r=3, lora_alpha=6, target_modules=["fc", "conv"], rank_pattern={"conv": 2}, alpha_pattern={"^fc": 5})
    theirs = peft.get_peft_model(make_base(), config)
    randomise([p for n, p in theirs.named_parameters() if "lora_" in n], 4)
    theirs.save_pretrained(tmp_path)
    expected = theirs(x())
    ours = AdapterModel.from_peft(make_base(), tmp_path)
    torch.testing.assert_close(ours(x()), expected, rtol=1e-5, atol=1e-5)
    scalings = sorted({a.scaling for _, _, a in ours._held()})
    assert scalings == sorted({6 / 3, 5 / 3, 6 / 2})
    # ... and into an existing model, as a second set.
    other = AdapterModel(make_base(), AdapterConfig(adapter_type="bitfit", target_modules=["out"]))
    other.load_peft(tmp_path, adapter_name="from_peft")
    other.set_active_adapters(["from_peft"])
    torch.testing.assert_close(other(x()), expected, rtol=1e-5, atol=1e-5)


def test_round_trip_ours_peft_ours(tmp_path) -> None:  # type: ignore[no-untyped-def]
    ours = AdapterModel(make_base(), AdapterConfig(adapter_type="lora", target_modules=["block.fc", "out"], lora_r=4))
    randomise(ours.adapter_parameters(), 6)
    ours.export_peft(tmp_path / "a")
    theirs = peft.PeftModel.from_pretrained(make_base(), tmp_path / "a")
    theirs.save_pretrained(tmp_path / "b")
    back = AdapterModel.from_peft(make_base(), tmp_path / "b")
    torch.testing.assert_close(back(x()), ours(x()), rtol=1e-6, atol=1e-6)


def test_unsupported_peft_options_are_named(tmp_path) -> None:  # type: ignore[no-untyped-def]
    theirs = peft.get_peft_model(make_base(), peft.LoraConfig(r=2, target_modules=["out"], bias="lora_only"))
    theirs.save_pretrained(tmp_path)
    with pytest.raises(ValueError, match="bias: 'lora_only'"):
        AdapterModel.from_peft(make_base(), tmp_path)
    mixed = AdapterModel(make_base(), [
        AdapterConfig(adapter_type="lora", target_modules=["out"], lora_r=2),
        AdapterConfig(adapter_type="bitfit", target_modules=["fc"]),
    ])
    with pytest.raises(ValueError, match="bitfit"):
        mixed.export_peft(tmp_path / "mixed")


def test_broken_checkpoint_leaves_the_base_model_untouched(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from safetensors.torch import load_file, save_file

    from adapters_lib import AdaptedModule, AdapterKeyError

    theirs = peft.get_peft_model(make_base(), peft.LoraConfig(r=2, target_modules=["out"]))
    theirs.save_pretrained(tmp_path)
    weights = load_file(str(tmp_path / "adapter_model.safetensors"))
    del weights["base_model.model.out.lora_B.weight"]
    save_file(weights, str(tmp_path / "adapter_model.safetensors"))
    base = make_base()
    with pytest.raises(AdapterKeyError, match="'out' lacks lora_B"):
        AdapterModel.from_peft(base, tmp_path)
    assert not any(isinstance(m, AdaptedModule) for m in base.modules())
    assert all(p.requires_grad for p in base.parameters())


def test_a_damaged_peft_checkpoint_is_named(tmp_path) -> None:  # type: ignore[no-untyped-def]
    ours = AdapterModel(make_base(), AdapterConfig(adapter_type="lora", target_modules=["fc"], lora_r=2))
    ours.export_peft(tmp_path)
    weights = tmp_path / "adapter_model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-8])
    with pytest.raises(ValueError, match=f"{str(weights)!r} is not a readable safetensors file"):
        AdapterModel.from_peft(make_base(), tmp_path)
    config = tmp_path / "adapter_config.json"
    config.write_text('{"peft_type": "LORA",')
    with pytest.raises(ValueError, match=f"{str(config)!r}: not valid JSON"):
        ours.load_peft(tmp_path, adapter_name="again")
    assert ours.adapter_names == ["default"]
