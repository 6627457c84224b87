"""LoRA on nn.Embedding: the update of a token's row, merging, gradients and PEFT's format."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from adapters_lib import AdapterConfig, AdapterModel, AdapterTargetError


class _LM(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.Embedding(10, 6, padding_idx=0)
        self.fc = nn.Linear(6, 4)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.fc(self.emb(ids))


def _base(seed: int = 0) -> _LM:
    torch.manual_seed(seed)
    return _LM()


IDS = torch.tensor([[0, 3, 9], [1, 2, 2]])


def _randomise_lora(peft_model: nn.Module) -> None:
    """PEFT starts LoRA's B at zero (no update): random values make a round trip show something."""
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, p in peft_model.named_parameters():
            if "lora_" in name:
                p.copy_(torch.randn(p.shape, generator=generator))


def _lora_model() -> AdapterModel:
    model = AdapterModel(_base(), AdapterConfig(adapter_type="lora", target_modules=["emb", "fc"], lora_r=2, lora_alpha=4))
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for p in model.adapter_parameters():
            p.copy_(torch.randn(p.shape, generator=generator))
    return model


def test_embedding_lora_adds_the_low_rank_update_of_each_tokens_row() -> None:
    model = _lora_model()
    lora = model.base_model.emb.adapters["default"]["lora"]
    base = _base()
    with torch.no_grad():
        rows = base.emb(IDS) + 2.0 * lora.lora_A.t()[IDS] @ lora.lora_B.t()
        torch.testing.assert_close(model.base_model.emb(IDS), rows)
        out = model(IDS)
        before = {k: v.clone() for k, v in model.base_model.state_dict().items()}
        model.merge_adapters()
        torch.testing.assert_close(model(IDS), out, rtol=1e-5, atol=1e-5)
        model.unmerge_adapters()
    assert all(torch.equal(before[k], v) for k, v in model.base_model.state_dict().items())
    model(IDS).sum().backward()
    assert model.base_model.emb.base_layer.weight.grad is None
    assert torch.equal(lora.lora_A.grad[:, 0], torch.zeros(2))  # the padding token's column, as in nn.Embedding
    assert lora.lora_A.grad.abs().sum() > 0 and lora.lora_B.grad.abs().sum() > 0


def test_embedding_lora_round_trips_through_peft_both_ways(tmp_path) -> None:  # type: ignore[no-untyped-def]
    peft = pytest.importorskip("peft")
    ours = _lora_model()
    with torch.no_grad():
        expected = ours(IDS)
    ours.export_peft(tmp_path / "ours")
    theirs = peft.PeftModel.from_pretrained(_base(), str(tmp_path / "ours"))
    with torch.no_grad():
        torch.testing.assert_close(theirs(IDS), expected)
    theirs.save_pretrained(str(tmp_path / "theirs"))
    back = AdapterModel.from_peft(_base(), tmp_path / "theirs")
    with torch.no_grad():
        torch.testing.assert_close(back(IDS), expected, rtol=0, atol=0)


def test_an_embedding_that_renormalises_its_rows_is_refused() -> None:
    base = nn.Sequential(nn.Embedding(5, 4, max_norm=1.0))
    with pytest.raises(AdapterTargetError, match="max_norm"):
        AdapterModel(base, AdapterConfig(adapter_type="lora", target_modules=["0"]))
    assert isinstance(base[0], nn.Embedding)


def test_embedding_keys_for_a_linear_module_are_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # The shapes fit (A: r x 6, B: 4 x r), so only the key kind shows the checkpoint is for another model.
    from safetensors.torch import save_file

    (tmp_path / "adapter_config.json").write_text('{"peft_type": "LORA", "r": 2, "lora_alpha": 4}')
    save_file(
        {"base_model.model.fc.lora_embedding_A": torch.zeros(2, 6), "base_model.model.fc.lora_embedding_B": torch.zeros(4, 2)},
        str(tmp_path / "adapter_model.safetensors"),
    )
    base = _base()
    with pytest.raises(KeyError, match=r"\['fc'\].*an Embedding LoRA"):
        AdapterModel.from_peft(base, tmp_path)
    assert isinstance(base.fc, nn.Linear)


def test_embedding_lora_gradients_follow_the_layers_lookup_as_in_peft(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # scale_grad_by_freq divides a token's gradient by its count in the batch, for the update's rows too.
    peft = pytest.importorskip("peft")

    def base() -> nn.Module:
        torch.manual_seed(0)
        return nn.Sequential(nn.Embedding(10, 6, scale_grad_by_freq=True))

    theirs = peft.get_peft_model(base(), peft.LoraConfig(r=2, lora_alpha=4, target_modules=["0"]))
    _randomise_lora(theirs)
    theirs.save_pretrained(str(tmp_path))
    ours = AdapterModel.from_peft(base(), tmp_path)
    ids, weights = torch.tensor([[3, 3, 3, 4]]), torch.randn(1, 4, 6, generator=torch.Generator().manual_seed(2))
    (theirs(ids) * weights).sum().backward()
    (ours(ids) * weights).sum().backward()
    expected = next(p.grad for name, p in theirs.named_parameters() if "lora_embedding_A" in name)
    torch.testing.assert_close(ours.base_model[0].adapters["default"]["lora"].lora_A.grad, expected)


class _Named(nn.Module):
    """Named as in transformers models, whose embeddings PEFT recognises and saves whole."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.embed_tokens = nn.Embedding(10, 6)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.embed_tokens(ids)

    def get_input_embeddings(self) -> nn.Module:
        return self.embed_tokens

    def get_output_embeddings(self) -> None:
        return None


def test_a_peft_checkpoint_that_also_saved_the_embedding_loads_when_it_is_unchanged(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # PEFT saves a targeted embedding's whole weight too (save_embedding_layers, on by default for
    # transformers models); it must be the model's own, since only the LoRA weights are loaded.
    peft = pytest.importorskip("peft")
    from safetensors.torch import load_file, save_file

    theirs = peft.get_peft_model(_Named(), peft.LoraConfig(r=2, lora_alpha=4, target_modules=["embed_tokens"]))
    _randomise_lora(theirs)
    with torch.no_grad():
        expected = theirs(IDS)
    theirs.save_pretrained(str(tmp_path), save_embedding_layers=True)
    key = "base_model.model.embed_tokens.base_layer.weight"
    weights = load_file(str(tmp_path / "adapter_model.safetensors"))
    assert key in weights
    with torch.no_grad():
        torch.testing.assert_close(AdapterModel.from_peft(_Named(), tmp_path)(IDS), expected)
    weights[key] = weights[key] + 1.0
    save_file(weights, str(tmp_path / "adapter_model.safetensors"))
    base = _Named()
    with pytest.raises(KeyError, match=r"'embed_tokens'.*differs from the model's"):
        AdapterModel.from_peft(base, tmp_path)
    assert isinstance(base.embed_tokens, nn.Embedding)
