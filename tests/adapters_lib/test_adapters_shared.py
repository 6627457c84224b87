"""Adapters on modules and weights that a model uses in more than one place."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from adapters_lib import AdapterConfig, AdapterModel, AdapterType


def _randomise(model: AdapterModel) -> None:
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for p in model.adapter_parameters():
            p.copy_(torch.randn(p.shape, generator=generator))


def _shared_twice() -> tuple[nn.Linear, nn.Sequential]:
    torch.manual_seed(0)
    layer = nn.Linear(6, 6)
    return layer, nn.Sequential(layer, nn.Tanh(), layer)


def _reference(layer: nn.Linear, model: AdapterModel, x: torch.Tensor) -> torch.Tensor:
    lora = model.base_model[0].adapters["default"]["lora"]
    step = lambda h: layer(h) + lora.scaling * h @ lora.lora_A.t() @ lora.lora_B.t()  # noqa: E731
    return step(torch.tanh(step(x)))


def test_a_module_called_at_two_places_is_adapted_at_both() -> None:
    layer, base = _shared_twice()
    model = AdapterModel(base, AdapterConfig(adapter_type=AdapterType.LORA, input_dim=6, lora_r=2))
    _randomise(model)
    assert model.base_model[0] is model.base_model[2]
    x = torch.randn(3, 6)
    with torch.no_grad():
        expected = _reference(layer, model, x)
        out = model(x)
        torch.testing.assert_close(out, expected)
        model.merge_adapters()  # the merged weight serves both places, so the output must not move
        torch.testing.assert_close(model(x), out, rtol=1e-5, atol=1e-5)
        model.unmerge_adapters()
    assert model.unload() is base
    assert base[0] is layer and base[2] is layer


def test_a_shared_module_can_be_targeted_by_any_of_its_names() -> None:
    layer, base = _shared_twice()
    model = AdapterModel(base, AdapterConfig(adapter_type=AdapterType.LORA, target_modules=["2"], lora_r=2))
    assert model.base_model[0] is model.base_model[2]
    assert model.base_model[2].base_layer is layer
    model.add_adapter("other", AdapterConfig(adapter_type=AdapterType.BITFIT, target_modules=["0"]))
    model.delete_adapter("default")
    model.delete_adapter("other")
    assert base[0] is layer and base[2] is layer


class _TiedLM(nn.Module):
    """An embedding and an output head that share one weight tensor."""

    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.Embedding(10, 6)
        self.fc = nn.Linear(6, 6)
        self.head = nn.Linear(6, 10, bias=False)
        self.head.weight = self.emb.weight

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.head(torch.tanh(self.fc(self.emb(ids))))


def test_merging_into_a_tied_weight_is_refused_and_changes_nothing() -> None:
    torch.manual_seed(0)
    lm = _TiedLM()
    model = AdapterModel(lm, AdapterConfig(adapter_type=AdapterType.LORA, target_modules=["head", "fc"], lora_r=2))
    _randomise(model)
    ids = torch.tensor([[1, 2, 3]])
    before = {k: v.clone() for k, v in lm.state_dict().items()}
    out = model(ids)
    with pytest.raises(ValueError, match=r"'weight'.*\['emb.weight', 'head.weight'\]"):
        model.merge_adapters()
    assert not model.merged
    assert all(torch.equal(before[k], v) for k, v in lm.state_dict().items())
    torch.testing.assert_close(model(ids), out, rtol=0, atol=0)
    with pytest.raises(ValueError, match="tied"):
        model.unload(merge=True)
    # Untied weights of the same model merge as usual.
    model.set_active_adapters([])
    model.add_adapter("fc_only", AdapterConfig(adapter_type=AdapterType.LORA, target_modules=["fc"], lora_r=2))
    model.merge_adapters()
    assert model.merged


def test_peft_format_refuses_a_module_registered_at_two_places(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # PEFT adapts such a module at its first place only, so neither direction would reproduce outputs.
    peft = pytest.importorskip("peft")
    layer, base = _shared_twice()
    model = AdapterModel(base, AdapterConfig(adapter_type=AdapterType.LORA, input_dim=6, lora_r=2))
    with pytest.raises(ValueError, match=r"\['0', '2'\]"):
        model.export_peft(tmp_path / "ours")
    assert not (tmp_path / "ours").exists()
    _, theirs = _shared_twice()
    peft.get_peft_model(theirs, peft.LoraConfig(r=2, target_modules=["0"])).save_pretrained(str(tmp_path / "peft"))
    _, plain = _shared_twice()
    with pytest.raises(ValueError, match=r"\['0', '2'\]"):
        AdapterModel.from_peft(plain, tmp_path / "peft")
    assert plain[0] is plain[2] and isinstance(plain[0], nn.Linear)
