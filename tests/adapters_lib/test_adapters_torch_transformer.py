"""Adapters on torch's own ``nn.TransformerEncoderLayer`` and ``nn.TransformerEncoder``: in eval mode
their fast paths read ``self_attn.in_proj_weight``, ``linear1.weight`` and the others directly
instead of calling the modules, which failed on the adapted modules and would have skipped the
adapters. An adapted layer runs its modules in eval as in training, LoRA adapts an attention's
projections (which it reads itself), an adapted module reads as its module for settings
(``batch_first``, which torch's encoder reads on every call), and elsewhere code that reads its
weights directly gets an error saying why."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from adapters_lib import AdapterConfig, AdapterModel, AdapterStateError, AdapterTargetError


def _encoder_layer() -> nn.TransformerEncoderLayer:
    torch.manual_seed(0)
    return nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0, batch_first=True)


def _adapted(base: nn.Module) -> AdapterModel:
    model = AdapterModel(base, [AdapterConfig(adapter_type="lora", input_dim=16, lora_r=2),
                                AdapterConfig(adapter_type="adapter", target_modules=["linear2"], hidden_dim=4)])
    with torch.no_grad():
        for p in model.adapter_parameters():
            p.normal_()
    return model


def test_an_adapted_encoder_layer_applies_its_adapters_in_eval_as_in_training() -> None:
    x = torch.randn(2, 5, 16)
    plain = _encoder_layer().eval()
    model = _adapted(_encoder_layer())
    trained = model.train()(x)
    with torch.no_grad():
        evaluated = model.eval()(x)
        assert torch.allclose(evaluated, trained, atol=1e-5)
        assert not torch.allclose(evaluated, plain(x), atol=1e-3)  # the adapters count
        model.disable_adapters(["adapter"])
        lora_only = model(x)
        model.merge_adapters()
        assert torch.allclose(model(x), lora_only, atol=1e-5)


def test_an_adapted_encoder_takes_no_nested_path_and_gets_it_back_on_unload() -> None:
    torch.manual_seed(0)
    encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0, batch_first=True), 2)
    assert encoder.use_nested_tensor
    model = _adapted(encoder).eval()
    x, mask = torch.randn(2, 5, 16), torch.zeros(2, 5, dtype=torch.bool)
    mask[0, 3:] = True
    with torch.no_grad():  # a padding mask in eval: the encoder would pack a nested tensor for the fast path
        evaluated = model(x, src_key_padding_mask=mask)
    assert torch.allclose(evaluated, model.train()(x, src_key_padding_mask=mask), atol=1e-5)
    assert not encoder.use_nested_tensor
    model.unload()
    assert encoder.use_nested_tensor


def test_an_encoder_takes_its_fast_paths_again_while_no_adapter_runs() -> None:
    # They stayed off until unload: switching the adapters off, merging them all or deleting every
    # set left the encoder on its slow path.
    torch.manual_seed(0)
    encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0, batch_first=True), 2)
    plain = copy.deepcopy(encoder).eval()
    model = _adapted(encoder).eval()
    x, mask = torch.randn(2, 5, 16), torch.zeros(2, 5, dtype=torch.bool)
    mask[0, 3:] = True

    def run(module: nn.Module = model) -> torch.Tensor:
        with torch.no_grad():  # the nested path gives zeros at the padded positions, the slow path does not
            return module(x, src_key_padding_mask=mask)

    assert run(plain)[0, 3:].abs().sum() == 0 and run()[0, 3:].abs().sum() > 0
    model.disable_adapters()
    assert torch.equal(run(), run(plain))
    model.enable_adapters()
    model.disable_adapters(["adapter"])
    lora_only = run()  # padded: the slow path while LoRA runs
    model.merge_adapters()
    merged = run()
    assert merged[0, 3:].abs().sum() == 0 and torch.allclose(merged[~mask], lora_only[~mask], atol=1e-5)
    model.unmerge_adapters()
    assert torch.equal(run(), lora_only)
    model.delete_adapter("default")
    assert torch.equal(run(), run(plain))
    model.enable_adapters()
    model.add_adapter("again", AdapterConfig(adapter_type="adapter", target_modules=["linear2"], hidden_dim=4))
    assert run()[0, 3:].abs().sum() > 0 and not encoder.use_nested_tensor
    model.unload()
    assert encoder.use_nested_tensor


def test_adapters_on_whole_layers_of_torch_encoders_and_decoders_run() -> None:
    # torch's encoder and decoder read layers[0].self_attn.batch_first on every call: with the layer
    # wrapped, every forward failed with "'self_attn': this TransformerEncoderLayer carries adapters"
    torch.manual_seed(0)
    encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0, batch_first=True), 2)
    decoder = nn.TransformerDecoder(nn.TransformerDecoderLayer(16, 2, 32, dropout=0.0, batch_first=True), 2)
    x, memory, mask = torch.randn(2, 5, 16), torch.randn(2, 3, 16), torch.zeros(2, 5, dtype=torch.bool)
    mask[0, 3:] = True
    with torch.no_grad():
        plain = (copy.deepcopy(encoder).eval()(x, src_key_padding_mask=mask), copy.deepcopy(decoder).eval()(x, memory))
    layers = AdapterConfig(adapter_type="adapter", target_modules=[r"re:layers\.\d+"], input_dim=16, hidden_dim=4)
    encoder_model, decoder_model = AdapterModel(encoder, layers), AdapterModel(decoder, layers)
    with torch.no_grad():
        for p in [*encoder_model.adapter_parameters(), *decoder_model.adapter_parameters()]:
            p.normal_()
        trained = encoder_model.train()(x, src_key_padding_mask=mask)
        evaluated = encoder_model.eval()(x, src_key_padding_mask=mask)
        assert torch.allclose(evaluated, trained, atol=1e-5) and not torch.allclose(evaluated[~mask], plain[0][~mask], atol=1e-3)
        assert not torch.allclose(decoder_model.eval()(x, memory), plain[1], atol=1e-3)
        encoder_model.disable_adapters()
        decoder_model.disable_adapters()
        assert torch.equal(encoder_model(x, src_key_padding_mask=mask), plain[0])  # the nested path again
        assert torch.allclose(decoder_model(x, memory), plain[1], atol=1e-6)


def test_reading_an_adapted_module_weight_directly_says_why_it_fails() -> None:
    model = AdapterModel(nn.Sequential(nn.Linear(8, 8)), AdapterConfig(adapter_type="lora", input_dim=8, lora_r=2))
    with pytest.raises(AttributeError, match=r"'weight': this Linear carries adapters.*base_layer.weight"):
        model.base_model[0].weight  # noqa: B018
    with pytest.raises(AttributeError, match="has no attribute 'nothing'"):
        model.base_model[0].nothing  # noqa: B018 - an attribute the module lacks too: the usual error


def test_an_adapter_on_self_attn_runs_in_eval_as_in_training() -> None:
    torch.manual_seed(0)
    encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0, batch_first=True), 2)
    model = AdapterModel(encoder, AdapterConfig(adapter_type="adapter", target_modules=["self_attn"], hidden_dim=4))
    with torch.no_grad():
        for p in model.adapter_parameters():
            p.normal_()
    attention = encoder.layers[0].self_attn
    assert (attention.batch_first, attention.embed_dim, attention.num_heads) == (True, 16, 2)  # what it is, as it is
    x = torch.randn(2, 5, 16)
    trained = model.train()(x)  # torch's encoder reads self_attn.batch_first on every call
    with torch.no_grad():  # the layer's fast path reads the attention's weights before it looks for hooks
        assert torch.allclose(model.eval()(x), trained, atol=1e-5)


def test_lora_on_an_attention_adapts_both_projections_in_eval_as_merged() -> None:
    x = torch.randn(2, 5, 16)
    layer = _encoder_layer()
    with pytest.raises(AdapterTargetError, match="target the attention module itself"):
        AdapterModel(layer, AdapterConfig(adapter_type="lora", target_modules=["out_proj"], lora_r=2))
    model = AdapterModel(layer, AdapterConfig(adapter_type="lora", target_modules=["self_attn"], lora_r=2))
    model(x).sum().backward()  # B starts at zero: A gets no gradient, B does; the base none
    grads = {n.rsplit(".", 1)[-1] for n, p in model.named_parameters() if p.grad is not None and p.grad.abs().sum() > 0}
    assert grads == {"lora_B", "out_proj_lora_B"}
    with torch.no_grad():
        for p in model.adapter_parameters():
            p.normal_()
        trained = model.train()(x)
        evaluated = model.eval()(x)  # no grad, eval: torch's fast path, were it not turned off
        model.merge_adapters()
        merged = model(x)
        plain = model.unload(merge=True)  # a plain layer: its fast path runs on the merged weights
        assert torch.allclose(evaluated, trained, atol=1e-5) and torch.allclose(merged, trained, atol=1e-5)
        assert torch.allclose(plain(x), trained, atol=1e-5)
        assert not torch.allclose(plain(x), _encoder_layer().eval()(x), atol=1e-3)  # both projections count


def test_lora_on_an_attention_is_kept_out_of_the_peft_format(tmp_path) -> None:  # type: ignore[no-untyped-def]
    model = AdapterModel(_encoder_layer(), AdapterConfig(adapter_type="lora", target_modules=["self_attn"], lora_r=2))
    with pytest.raises(AdapterStateError, match=r"attention modules \['self_attn'\] cannot be exported"):
        model.export_peft(tmp_path / "peft")
    assert not (tmp_path / "peft").exists()
    # nor is a checkpoint whose LoRA names an attention module taken in
    source = AdapterModel(nn.Sequential(nn.Linear(16, 16)), AdapterConfig(adapter_type="lora", input_dim=16, lora_r=2))
    source.export_peft(tmp_path / "linear")
    with pytest.raises(AdapterStateError, match=r"adapts the attention modules \['0'\]"):
        AdapterModel.from_peft(nn.Sequential(nn.MultiheadAttention(16, 2)), tmp_path / "linear")


def test_bitfit_on_an_attention_fits_both_projection_biases_in_eval_as_merged() -> None:
    x = torch.randn(2, 5, 16)
    layer = _encoder_layer()
    original = layer.self_attn.in_proj_weight.clone()
    model = AdapterModel(layer, AdapterConfig(adapter_type="bitfit", target_modules=["self_attn"]))
    assert sorted(n.rsplit(".", 1)[-1] for n in model.adapter_parameter_names()) == ["bias_delta", "out_proj_bias_delta"]
    with torch.no_grad():
        for p in model.adapter_parameters():
            p.normal_()
        trained = model.train()(x)
        evaluated = model.eval()(x)
        plain = model.unload(merge=True)
        assert torch.allclose(evaluated, trained, atol=1e-5) and torch.allclose(plain(x), trained, atol=1e-5)
        assert not torch.allclose(trained, _encoder_layer().eval()(x), atol=1e-3)  # the biases count
    assert torch.equal(plain.self_attn.in_proj_weight, original)  # the biases alone changed


def test_an_attention_whose_projection_a_parametrization_computes_is_refused_up_front() -> None:
    attention = nn.MultiheadAttention(16, 2)
    nn.utils.parametrizations.weight_norm(attention.out_proj)  # out_proj.weight is computed, not held
    base = nn.ModuleDict({"attn": attention})
    with pytest.raises(AdapterTargetError, match=r"LoRA on module 'attn' adds to its \['out_proj.weight'\], which a parametrization"):
        AdapterModel(base, AdapterConfig(adapter_type="lora", target_modules=["attn"], lora_r=2))
    assert base["attn"] is attention
